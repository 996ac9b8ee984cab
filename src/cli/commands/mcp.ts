// `omoi mcp`: the MCP server on stdin/stdout (src/mcp/server.ts). Stdout carries the protocol only,
// so nothing here prints; a bad environment is reported on stderr with exit 2.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('mcp')
    .description(
      'Serve Omoi to MCP clients over stdio (tickets, spec validation, answers to agents, approval, trace); uses OMOIOS_API_URL and OMOIOS_API_KEY',
    )
    .action(async () => {
      const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
      const env = parseApiClientEnv(process.env);
      const { createOmoiMcpServer } = await import('../../mcp/server.js');
      const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
      const server = createOmoiMcpServer({
        api: createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY }),
        defaultProject: env.OMOIOS_PROJECT_ID,
      });
      const transport = new StdioServerTransport();
      await server.connect(transport);
      // Runs until the client closes stdin (the transport's own onclose belongs to the server).
      await new Promise<void>((resolve) => {
        process.stdin.once('end', () => resolve());
        process.stdin.once('close', () => resolve());
      });
      await server.close();
    });
}
