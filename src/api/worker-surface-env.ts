// The worker surface's variables, apart from the surface itself so that `omoi start` can parse its
// environment before it loads the server's modules (src/api/worker-surface.ts).
import { z } from 'zod';

/** The variables of the surface, parsed by `omoi start` with its other schemas. */
export const workerSurfaceEnvSchema = z.object({
  /** A TCP port for the worker surface (remote sandboxes); unset: the unix socket only. */
  OMOI_WORKER_PORT: z.coerce.number().int().min(0).max(65535).optional(),
});
