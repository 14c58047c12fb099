import type { RenderedFile } from '../file.ts';
import { textFile } from '../file.ts';
import { blank, comment, d } from './ast.ts';
import { printNginx } from './print.ts';
import type { NginxInput } from './types.ts';

/** TLS for every HTTPS server, set once at http level (Mozilla intermediate). */
export function renderTls({ edge }: NginxInput): RenderedFile[] {
  const { tls, paths } = edge;
  const nodes = [
    comment('Mozilla intermediate. No OCSP stapling: Cloudflare origin certificates have no responder.'),
    comment('The DHE suites apply only if an ssl_dhparam is ever added.'),
    d('ssl_protocols', ...tls.protocols),
    d('ssl_ciphers', tls.ciphers),
    d('ssl_prefer_server_ciphers', 'off'),
    d('ssl_session_cache', tls.sessionCache),
    d('ssl_session_timeout', tls.sessionTimeout),
    d('ssl_session_tickets', 'off'),
    blank(),
    comment('Cloudflare origin certificate.'),
    d('ssl_certificate', paths.certificate),
    d('ssl_certificate_key', paths.certificateKey),
    ...(tls.clientCa === null
      ? [comment('Authenticated origin pulls are off: any client may connect directly.')]
      : [
          blank(),
          comment('authenticated origin pulls. Only Cloudflare holds a client certificate signed'),
          comment('by this CA, so the origin cannot be reached around Cloudflare.'),
          d('ssl_client_certificate', tls.clientCa),
          d('ssl_verify_client', 'on'),
        ]),
  ];
  return [textFile(edge.files.tls, printNginx(nodes))];
}
