// The `tessera` command.
import { readFileSync } from 'node:fs';
import { UsageError } from './flags.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Command {
  usage: string;
  main: (argv: string[]) => Promise<number>;
}

// Commands load on demand: `tessera render` does not pay for the controller's modules.
export const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: { summary: 'Start the controller.', load: async () => { const m = await import('./run.ts'); return { usage: m.runUsage, main: m.run }; } },
  render: {
    summary: 'Print the Secret an ExternalSecret would produce, offline (values from a file).',
    load: async () => { const m = await import('./render.ts'); return { usage: m.renderUsage, main: m.render }; },
  },
};

export const mainUsage = `Usage: tessera <command> [flags]

Tessera keeps Kubernetes Secrets in sync with external secret managers, driven by
ExternalSecret, SecretStore and ClusterSecretStore objects (external-secrets.io).

Commands:
${Object.entries(commands)
  .map(([n, c]) => `  ${n.padEnd(10)}${c.summary}`)
  .join('\n')}
  version   Print the version.
  help      Show help for a command: tessera help <command>, or tessera <command> --help.
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    process.stdout.write(topic && commands[topic] ? (await commands[topic].load()).usage : mainUsage);
    return 0;
  }
  if (cmd === 'version' || cmd === '--version') {
    process.stdout.write(`tessera ${pkg.version} (node ${process.versions.node})\n`);
    return 0;
  }
  const entry = commands[cmd];
  if (!entry) {
    process.stderr.write(`tessera: unknown command "${cmd}"\n\n${mainUsage}`);
    return 2;
  }
  const c = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(c.usage);
    return 0;
  }
  try {
    return await c.main(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tessera ${cmd}: ${e.message}\n\n${c.usage}`);
      return 2;
    }
    throw e;
  }
}

export function runMain(): void {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`tessera: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}

if (import.meta.main) runMain();
