// Entry point of a compute worker thread: serves step-3 tasks (src/compute/task.ts).
import { serveTasks } from './serve.ts';
import { runDesiredSecretTask } from './task.ts';

serveTasks(runDesiredSecretTask);
