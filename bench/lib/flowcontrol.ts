// The kube-apiserver's priority and fairness (APF) figures for a bench window: which FlowSchema and
// priority level requests were classified into, how many were rejected (answered 429), and how
// long they queued. The peers run with APF on, as real clusters do, so the controller's client-side
// rate limit (--client-qps) is measured against an apiserver that protects itself: these figures
// show whether it had to (rejections, queueing) and where the controller's ServiceAccount lands.
import { apiserverMetrics } from './apiserver.ts';
import { diff, parseProm, sumBy } from './prom.ts';

export interface FlowControlSnapshot {
  /** apiserver_flowcontrol_dispatched_requests_total by "flow_schema/priority_level". */
  dispatched: Record<string, number>;
  /** apiserver_flowcontrol_rejected_requests_total by "flow_schema/priority_level reason". */
  rejected: Record<string, number>;
  /** apiserver_flowcontrol_request_wait_duration_seconds sum and count by priority level. */
  waitSum: Record<string, number>;
  waitCount: Record<string, number>;
}

export interface FlowControlWindow {
  dispatched: Record<string, number>;
  rejected: Record<string, number>;
  /** Mean time a request of the level waited in APF's queues before it ran (ms), in the window. */
  meanWaitMs: Record<string, number>;
}

export async function flowControlSnapshot(apiserverUrl: string): Promise<FlowControlSnapshot> {
  const s = parseProm(await apiserverMetrics(apiserverUrl), (n) => n.startsWith('apiserver_flowcontrol_'));
  const join = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(' ', '/'), v]));
  return {
    dispatched: join(sumBy(s, 'apiserver_flowcontrol_dispatched_requests_total', ['flow_schema', 'priority_level'])),
    rejected: sumBy(s, 'apiserver_flowcontrol_rejected_requests_total', ['flow_schema', 'priority_level', 'reason']),
    waitSum: sumBy(s, 'apiserver_flowcontrol_request_wait_duration_seconds_sum', ['priority_level']),
    waitCount: sumBy(s, 'apiserver_flowcontrol_request_wait_duration_seconds_count', ['priority_level']),
  };
}

export function flowControlWindow(after: FlowControlSnapshot, before: FlowControlSnapshot): FlowControlWindow {
  const count = diff(after.waitCount, before.waitCount);
  // The sum is in seconds, which diff() would round away: subtract it directly.
  const meanWaitMs = Object.fromEntries(Object.keys(count).map((level) => {
    const s = (after.waitSum[level] ?? 0) - (before.waitSum[level] ?? 0);
    return [level, Math.round((s / count[level]!) * 1e4) / 10];
  }));
  return { dispatched: diff(after.dispatched, before.dispatched), rejected: diff(after.rejected, before.rejected), meanWaitMs };
}
