// The controller runtime: knows Kubernetes, nothing about secrets.
export * from './client.ts';
export * from './types.ts';
export * from './informer.ts';
export * from './workqueue.ts';
export * from './controller.ts';
export * from './leaderelection.ts';
export * from './events.ts';
export * from './manager.ts';
export * from './ratelimit.ts';
