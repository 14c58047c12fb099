import type { CoreModel } from '../../model/core.ts';
import type { MonitoringModel } from '../../model/monitoring.ts';
import { type RenderedFile, textFile } from '../file.ts';
import { yaml } from './prometheus.ts';

type Input = CoreModel & { monitoring: MonitoringModel };

export const RECEIVERS = { team: 'team', critical: 'critical' } as const;

/**
 * monitoring/alertmanager/alertmanager.yml . Secrets are read from files (
 * Alertmanager does not expand `${VAR}`), routes use `matchers` (34), Slack gets a Slack receiver instead of
 * a generic webhook, and there is no `templates:` glob .
 */
export function alertmanagerConfig(model: Input): Record<string, unknown> {
  const { alerts } = model.config;
  const secrets = model.monitoring.alertmanagerSecrets;
  const critical = [...new Set([...alerts.team, ...alerts.critical])];
  const email = (to: string[]) => ({ to: to.join(', '), send_resolved: true });

  const criticalReceiver: Record<string, unknown> = {
    name: RECEIVERS.critical,
    email_configs: [email(critical)],
  };
  if (secrets.slackWebhook) {
    criticalReceiver.slack_configs = [
      {
        api_url_file: secrets.slackWebhook.containerPath,
        channel: alerts.slack.channel,
        send_resolved: true,
      },
    ];
  }

  return {
    global: {
      resolve_timeout: '5m',
      smtp_smarthost: `${alerts.smtp.host}:${alerts.smtp.port}`,
      smtp_from: alerts.from,
      smtp_auth_username: alerts.smtp.username,
      smtp_auth_password_file: secrets.smtpPassword.containerPath,
      smtp_require_tls: true,
    },
    route: {
      receiver: RECEIVERS.team,
      group_by: ['alertname', 'severity'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [{ receiver: RECEIVERS.critical, matchers: ['severity="critical"'] }],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ['alertname', 'instance'],
      },
    ],
    receivers: [{ name: RECEIVERS.team, email_configs: [email(alerts.team)] }, criticalReceiver],
  };
}

export function renderAlertmanager(model: Input): RenderedFile[] {
  return [textFile(model.monitoring.files.alertmanager, yaml(alertmanagerConfig(model)))];
}
