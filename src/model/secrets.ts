/** How `academy secrets init` creates a value, or `provided` when only the operator can supply it. */
export type SecretSource =
  | { kind: 'random'; bytes: number; encoding: 'hex' | 'base64url' }
  | { kind: 'prefixed-hex'; prefix: string; bytes: number }
  | { kind: 'provided' };

export interface Secret {
  name: string;
  purpose: string;
  source: SecretSource;
}

const random = (bytes: number, encoding: 'hex' | 'base64url' = 'base64url'): SecretSource => ({
  kind: 'random',
  bytes,
  encoding,
});
const provided: SecretSource = { kind: 'provided' };

/**
 * Every secret the stack reads from the env file. Values are URL-safe so they can sit inside connection
 * URLs (REDIS_URL, DATABASE_URL) without escaping.
 */
export const SECRETS: readonly Secret[] = [
  { name: 'POSTGRES_PASSWORD', purpose: 'PostgreSQL application owner', source: random(24) },
  { name: 'ANALYTICS_PASSWORD', purpose: 'PostgreSQL read-only analytics role', source: random(24) },
  { name: 'MYSQL_ROOT_PASSWORD', purpose: 'MySQL root (backups, health)', source: random(24) },
  { name: 'MYSQL_PASSWORD', purpose: 'MySQL Gibbon user', source: random(24) },
  { name: 'REDIS_PASSWORD', purpose: 'Redis default user', source: random(24) },
  { name: 'JWT_SECRET', purpose: 'API token signing key', source: random(48) },
  { name: 'GRAFANA_ADMIN_PASSWORD', purpose: 'Grafana admin login', source: random(18) },
  {
    name: 'OBJECT_STORE_RPC_SECRET',
    purpose: 'Garage node RPC secret (32 bytes, hex)',
    source: random(32, 'hex'),
  },
  { name: 'OBJECT_STORE_ADMIN_TOKEN', purpose: 'Garage admin API token', source: random(32) },
  { name: 'OBJECT_STORE_METRICS_TOKEN', purpose: 'Garage metrics bearer token', source: random(32) },
  {
    name: 'S3_ACCESS_KEY_ID',
    purpose: 'S3 access key of the applications (Garage key id format)',
    source: { kind: 'prefixed-hex', prefix: 'GK', bytes: 12 },
  },
  { name: 'S3_SECRET_ACCESS_KEY', purpose: 'S3 secret key of the applications', source: random(32, 'hex') },
  { name: 'SSLCOMMERZ_STORE_ID', purpose: 'SSLCommerz payment gateway store id', source: provided },
  { name: 'SSLCOMMERZ_STORE_PASSWORD', purpose: 'SSLCommerz payment gateway password', source: provided },
  { name: 'BKASH_APP_KEY', purpose: 'bKash payment app key', source: provided },
  { name: 'BKASH_APP_SECRET', purpose: 'bKash payment app secret', source: provided },
  { name: 'NAGAD_MERCHANT_ID', purpose: 'Nagad merchant id', source: provided },
  { name: 'SENDGRID_API_KEY', purpose: 'SendGrid: application mail and alert e-mail', source: provided },
  { name: 'BULKSMSBD_API_KEY', purpose: 'BulkSMSBD SMS gateway', source: provided },
  { name: 'SLACK_WEBHOOK_URL', purpose: 'Slack incoming webhook for critical alerts', source: provided },
];
