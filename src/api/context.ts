// What every handler can reach through the Hono context.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ServerConfig } from '../core/config.js';
import type { Principal } from '../core/keys.js';
import type { Services } from '../core/services.js';

export interface AppEnv {
  Variables: { principal: Principal };
}

export type App = OpenAPIHono<AppEnv>;
export type AppContext = Context<AppEnv>;

export interface AppDeps {
  services: Services;
  config: ServerConfig;
  /** Where unexpected errors go (the server's logger). */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}
