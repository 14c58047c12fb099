import type { ServiceSpec } from './compose.ts';
import { APP_ROLES, type AppRole, type Color, type CoreModel } from './core.ts';
import { optionalVar, requiredVar } from './env-vars.ts';
import type { ObjectStoreModel } from './object-store.ts';

const imageVariable = (role: AppRole) => `${role.toUpperCase()}_IMAGE`;

/** DNS name of an application container on the shared networks: one per colour, never shared. */
export const appAlias = (role: AppRole, color: Color) => `${role}-${color}`;

function appEnvironment(
  core: CoreModel,
  store: ObjectStoreModel,
  role: AppRole,
  color: Color,
): Record<string, string> {
  const { postgres, redis } = core.endpoints;
  const pg = core.config.postgres;
  const common = {
    NODE_ENV: 'production',
    TZ: core.config.timezone,
    APP_ROLE: role,
    PORT: String(core.apps[role].containerPort),
    STACK_COLOR: color,
    APP_VERSION: `\${APP_VERSION:-${core.config.images.appVersion}}`,
  };
  const api = `https://${core.domains.api}`;
  if (role !== 'api') {
    return {
      ...common,
      NEXT_PUBLIC_API_URL: api,
      API_INTERNAL_URL: `http://${appAlias('api', color)}:${core.apps.api.containerPort}`,
    };
  }
  return {
    ...common,
    DATABASE_URL: `postgresql://${pg.user}:${requiredVar('POSTGRES_PASSWORD')}@${postgres.host}:${postgres.port}/${pg.database}`,
    REDIS_URL: `redis://:${requiredVar('REDIS_PASSWORD')}@${redis.host}:${redis.port}/0`,
    JWT_SECRET: requiredVar('JWT_SECRET'),
    S3_ENDPOINT: `http://${store.endpoint.host}:${store.endpoint.port}`,
    S3_REGION: store.region,
    S3_BUCKET: store.bucket,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: requiredVar('S3_ACCESS_KEY_ID'),
    S3_SECRET_ACCESS_KEY: requiredVar('S3_SECRET_ACCESS_KEY'),
    SSLCOMMERZ_STORE_ID: optionalVar('SSLCOMMERZ_STORE_ID'),
    SSLCOMMERZ_STORE_PASSWORD: optionalVar('SSLCOMMERZ_STORE_PASSWORD'),
    BKASH_APP_KEY: optionalVar('BKASH_APP_KEY'),
    BKASH_APP_SECRET: optionalVar('BKASH_APP_SECRET'),
    NAGAD_MERCHANT_ID: optionalVar('NAGAD_MERCHANT_ID'),
    SENDGRID_API_KEY: optionalVar('SENDGRID_API_KEY'),
    BULKSMSBD_API_KEY: optionalVar('BULKSMSBD_API_KEY'),
  };
}

/** api, web and admin of one colour: the only services a blue/green deployment replaces. */
export function appServices(core: CoreModel, store: ObjectStoreModel, color: Color): ServiceSpec[] {
  return APP_ROLES.map((role) => {
    const app = core.apps[role];
    const alias = appAlias(role, color);
    return {
      name: alias,
      containerName: core.containerName(role, color),
      image: { ref: app.image, variable: imageVariable(role) },
      environment: appEnvironment(core, store, role, color),
      ports: [{ host: app.hostPort[color], container: app.containerPort }],
      networks: {
        internal: { aliases: [alias] },
        ...(role === 'api' ? { database: { aliases: [alias] } } : {}),
      },
      healthcheck: {
        // The platform contract: the image has wget (Debian slim with busybox) or honours HEALTHCHECK;
        // node itself is always there, so probe with it.
        test: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${app.containerPort}${app.healthPath}').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: '10s',
        timeout: '5s',
        retries: 3,
        startPeriod: '30s',
      },
      resources: core.resources[role],
      readOnlyRootFs: true,
      tmpfs: ['/tmp'],
      // Long enough for the app to drain in-flight requests after SIGTERM.
      stopGracePeriod: '30s',
    };
  });
}
