// Entry point of a compute worker thread: serves step-3 tasks and PushSecret key expansions
// (src/compute/task.ts).
import { serveTasks } from './serve.ts';
import type { PushEntriesTask } from './push.ts';
import { runDesiredSecretTask, runPushEntriesTask } from './task.ts';
import type { WireInput } from './wire.ts';

serveTasks((payload: WireInput | PushEntriesTask) => ('kind' in payload && payload.kind === 'pushEntries' ? runPushEntriesTask(payload) : runDesiredSecretTask(payload as WireInput)));
