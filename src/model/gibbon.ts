import type { ServiceSpec } from './compose.ts';
import type { CoreModel } from './core.ts';
import { requiredVar } from './env-vars.ts';

/** Gibbon, the school information system, on MySQL. Its image follows GibbonEdu's Dockerfile contract. */
export function gibbonService(core: CoreModel): ServiceSpec {
  const { mysql } = core.endpoints;
  return {
    name: 'gibbon',
    containerName: core.containerName('gibbon'),
    image: { ref: core.config.images.gibbon, variable: 'GIBBON_IMAGE' },
    environment: {
      TZ: core.config.timezone,
      MYSQL_HOST: mysql.host,
      MYSQL_PORT: String(mysql.port),
      MYSQL_DATABASE: core.config.mysql.database,
      MYSQL_USER: core.config.mysql.user,
      MYSQL_PASSWORD: requiredVar('MYSQL_PASSWORD'),
    },
    ports: [{ host: core.hostPorts.gibbon, container: 80 }],
    networks: { internal: { aliases: ['gibbon'] }, database: { aliases: ['gibbon'] } },
    mounts: [{ kind: 'host', source: `${core.paths.data}/gibbon`, target: '/var/www/site/uploads' }],
    healthcheck: {
      test: ['CMD', 'curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1/'],
      interval: '30s',
      timeout: '10s',
      retries: 3,
      startPeriod: '60s',
    },
    resources: core.resources.gibbon,
    dependsOn: { mysql: 'service_healthy' },
  };
}
