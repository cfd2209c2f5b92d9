#!/usr/bin/env node
/**
 * ikegw daemon entry point.
 *   ikegw -c /etc/ikegw/ikegw.yaml [--check] [--keylog FILE]
 * Exit codes: 0 clean stop, 1 runtime failure (e.g. cannot bind), 2 bad command line or config.
 */
import { loadConfigFile } from './config/load.js';
import { ConfigError } from './common/errors.js';
import { createLogger } from './common/log.js';
import { Gateway } from './runtime/gateway.js';
import { ControlServer } from './control/server.js';

const USAGE = 'usage: ikegw -c CONFIG [--check] [--keylog FILE]';

async function main(argv: string[]): Promise<number> {
  let configPath: string | undefined;
  let check = false;
  let keylog: string | undefined = process.env['IKEGW_KEYLOG'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config') configPath = argv[++i];
    else if (a === '--check') check = true;
    else if (a === '--keylog') keylog = argv[++i];
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      return 0;
    } else {
      console.error(`ikegw: unknown argument ${a}\n${USAGE}`);
      return 2;
    }
  }
  if (!configPath) {
    console.error(`ikegw: no config file given\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfigFile(configPath);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`ikegw: invalid configuration:\n${e.message}`);
      return 2;
    }
    console.error(`ikegw: cannot load ${configPath}: ${e instanceof Error ? e.message : e}`);
    return 2;
  }
  if (check) {
    console.log(`${configPath}: OK (${config.connections.length} connection${config.connections.length === 1 ? '' : 's'})`);
    return 0;
  }
  const logger = createLogger({ level: config.log.level });
  const gw = new Gateway(config, { logger, ...(keylog ? { keylog } : {}) });
  const control = new ControlServer(gw, config.control.socket);
  try {
    await gw.start();
    await control.start();
  } catch (e) {
    logger.fatal({ err: e instanceof Error ? e.message : String(e) }, 'startup failed');
    await gw.stop(0).catch(() => {});
    return 1;
  }
  logger.info({ connections: config.connections.map((c) => c.name), control: config.control.socket }, 'ikegw started');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal: sig }, 'stopping: deleting SAs');
      Promise.all([gw.stop(), control.stop()]).then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    // let pino flush
    setTimeout(() => process.exit(code), 50);
  },
  (e) => {
    console.error(`ikegw: fatal: ${e instanceof Error ? e.stack : e}`);
    process.exit(1);
  },
);
