// The PostgreSQL NOTIFY channels processes wake each other on, named here and nowhere else.

/** Payload: an event id. Every committed event; each process's EventHub listens. */
export const EVENTS_CHANNEL = 'omoi_events';
/** Payload: a project id. A task became runnable; orchestrators listen and claim. */
export const TASKS_CHANNEL = 'omoi_tasks';
