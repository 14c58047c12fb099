import { describe, expect, it } from 'vitest';
import { blank, block, comment, d, type NginxNode, stripTrivia } from '../../src/render/nginx/ast.ts';
import {
  blocksOf,
  directivesOf,
  findBlocks,
  findDirectives,
  NginxParseError,
  parseNginx,
} from '../../src/render/nginx/parse.ts';
import { printNginx, quoteArg } from '../../src/render/nginx/print.ts';

/** nginx's braced variable syntax, built so it is not read as a JavaScript template placeholder. */
const HOST_VAR = ['$', '{host}'].join('');

/** A realistic site: the shapes the nginx renderer produces. */
function site(): NginxNode[] {
  return [
    comment('Rendered by academy synth. Do not edit.'),
    block('map', ['$http_upgrade', '$connection_upgrade'], [d('default', 'upgrade'), d('', 'close')]),
    blank(),
    d('log_format', 'json', 'escape=json', '{"a":"$b","time":"$time_iso8601"}'),
    d('limit_req_zone', '$binary_remote_addr', 'zone=api:10m', 'rate=10r/s'),
    blank(),
    block(
      'upstream',
      ['api_blue'],
      [d('server', '127.0.0.1:3001', 'max_fails=3', 'fail_timeout=10s'), d('keepalive', 32)],
    ),
    blank(),
    block(
      'server',
      [],
      [
        d('listen', '443', 'ssl'),
        d('listen', '[::]:443', 'ssl'),
        { ...d('http2', 'on'), comment: 'nginx >= 1.25.1' },
        d('server_name', 'portal.example.org', 'www.portal.example.org'),
        blank(),
        d('add_header', 'Content-Security-Policy', "default-src 'self'; img-src data:", 'always'),
        d('add_header', 'Strict-Transport-Security', 'max-age=63072000; includeSubDomains', 'always'),
        d('access_log', '/var/log/nginx/portal.access.log', 'json'),
        blank(),
        block(
          'location',
          ['/api/'],
          [
            d('limit_req', 'zone=api', 'burst=20', 'nodelay'),
            d('proxy_set_header', 'Upgrade', '$http_upgrade'),
            d('proxy_set_header', 'Connection', '$connection_upgrade'),
            d('proxy_pass', 'http://api_blue'),
          ],
        ),
        block(
          'location',
          ['~*', '\\.(png|css)$'],
          [d('expires', '30d'), d('add_header', 'Cache-Control', 'public, immutable')],
        ),
        block('location', ['^~', '/.well-known/acme-challenge/'], [d('root', '/var/www/acme')]),
        block('location', ['~', '^/files/\\d{4}/'], [d('return', 404)]),
        block('location', ['=', '/healthz'], [d('access_log', 'off'), d('return', 200, 'ok\n')]),
      ],
    ),
  ];
}

describe('builders', () => {
  it('build directives and blocks, turning numbers into strings and skipping false children', () => {
    const tls = false;
    expect(d('listen', 443, 'ssl')).toEqual({ kind: 'directive', name: 'listen', args: ['443', 'ssl'] });
    expect(block('server', [], [d('a'), tls && d('ssl_certificate', 'x'), null, undefined])).toEqual({
      kind: 'block',
      name: 'server',
      args: [],
      children: [{ kind: 'directive', name: 'a', args: [] }],
    });
    expect(comment('x')).toEqual({ kind: 'comment', text: 'x' });
    expect(blank()).toEqual({ kind: 'blank' });
  });

  it('reject numbers nginx cannot read', () => {
    expect(() => d('worker_connections', Number.NaN)).toThrow(/finite number/);
  });
});

describe('printNginx', () => {
  it('prints nested blocks with 4-space indentation and one trailing newline', () => {
    const text = printNginx([
      d('user', 'www-data'),
      block('events', [], [d('worker_connections', 1024)]),
      block(
        'http',
        [],
        [
          block(
            'server',
            [],
            [d('listen', 80), block('location', ['/'], [d('return', 301, 'https://$host')])],
          ),
        ],
      ),
    ]);
    expect(text).toBe(
      [
        'user www-data;',
        'events {',
        '    worker_connections 1024;',
        '}',
        'http {',
        '    server {',
        '        listen 80;',
        '        location / {',
        '            return 301 https://$host;',
        '        }',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('prints comments, inline comments, empty blocks and normalised blank lines', () => {
    const text = printNginx([
      blank(),
      comment('first\nsecond'),
      comment(''),
      { ...d('listen', 80), comment: 'plain http' },
      blank(),
      blank(),
      { ...block('server', [], [blank(), d('a'), blank()]), comment: 'main' },
      block('events', [], []),
      blank(),
    ]);
    expect(text).toBe(
      [
        '# first',
        '# second',
        '#',
        'listen 80; # plain http',
        '',
        'server { # main',
        '    a;',
        '}',
        'events {}',
        '',
      ].join('\n'),
    );
  });

  it('prints nothing for an empty tree and rejects multi-line inline comments', () => {
    expect(printNginx([])).toBe('');
    expect(() => printNginx([{ ...d('a'), comment: 'x\ny' }])).toThrow(/single line/);
  });

  it('is deterministic', () => {
    expect(printNginx(site())).toBe(printNginx(site()));
  });
});

describe('quoting', () => {
  it('leaves valid bare tokens alone', () => {
    for (const token of [
      '$binary_remote_addr',
      '~*',
      '^~',
      '=',
      '\\.(js|css)$',
      '^/api/(?<rest>.*)$',
      'zone=api:10m',
      'http://127.0.0.1:3001',
      '[::]:443',
      '~^Upgrade',
      'default',
    ]) {
      expect(quoteArg(token)).toBe(token);
    }
  });

  it('quotes whitespace, empty values, nginx punctuation and quotes', () => {
    expect(quoteArg('public, immutable')).toBe('"public, immutable"');
    expect(quoteArg('')).toBe('""');
    expect(quoteArg('a;b')).toBe('"a;b"');
    expect(quoteArg('#fff')).toBe('"#fff"');
    expect(quoteArg("'self'")).toBe('"\'self\'"');
    expect(quoteArg('^/files/\\d{4}/')).toBe('"^/files/\\d{4}/"');
    expect(quoteArg(HOST_VAR)).toBe(`"${HOST_VAR}"`);
    expect(quoteArg('a}')).toBe('"a}"');
  });

  it('escapes double quotes, significant backslashes and control characters inside quotes', () => {
    expect(quoteArg('{"a":"$b"}')).toBe('"{\\"a\\":\\"$b\\"}"');
    expect(quoteArg('say "hi"')).toBe('"say \\"hi\\""');
    // nginx reads \\ \" \n as escapes, so a backslash before them (or at the end) is doubled; \. or \b is kept.
    expect(quoteArg('a\\\\b')).toBe('"a\\\\\\b"');
    expect(quoteArg('ends\\')).toBe('"ends\\\\"');
    expect(quoteArg('a\\nb')).toBe('"a\\\\nb"');
    expect(quoteArg('x y\\.png')).toBe('"x y\\.png"');
    expect(quoteArg('line\nnext\ttab')).toBe('"line\\nnext\\ttab"');
  });

  it('quotes directive names by the same rules (map keys)', () => {
    const text = printNginx([
      block(
        'map',
        ['$http_upgrade', '$connection_upgrade'],
        [d('default', 'upgrade'), d('', 'close'), d('~^Upgrade', 'upgrade'), d('Mozilla 4', 'old')],
      ),
    ]);
    expect(text).toBe(
      [
        'map $http_upgrade $connection_upgrade {',
        '    default upgrade;',
        '    "" close;',
        '    ~^Upgrade upgrade;',
        '    "Mozilla 4" old;',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('prints the realistic site as nginx expects it', () => {
    const text = printNginx(site());
    expect(text).toContain(
      'map $http_upgrade $connection_upgrade {\n    default upgrade;\n    "" close;\n}\n',
    );
    expect(text).toContain(
      'log_format json escape=json "{\\"a\\":\\"$b\\",\\"time\\":\\"$time_iso8601\\"}";\n',
    );
    expect(text).toContain(
      `    add_header Content-Security-Policy "default-src 'self'; img-src data:" always;\n`,
    );
    expect(text).toContain('    location ~* \\.(png|css)$ {\n');
    expect(text).toContain('    location ~ "^/files/\\d{4}/" {\n');
    expect(text).toContain('    http2 on; # nginx >= 1.25.1\n');
    expect(text).toContain('        return 200 "ok\\n";\n');
  });

  it('survives a parse for every tricky value, as a name and as an argument', () => {
    const values = [
      '',
      ' ',
      'a b',
      '"',
      "'",
      '\\',
      '\\\\',
      '\\"',
      "\\'",
      '\\n',
      '\\t',
      '\n',
      '\r\n',
      '\t',
      '\\\n',
      '\\ b',
      '{',
      '}',
      ';',
      '#',
      '$',
      HOST_VAR,
      ')',
      '(',
      'a#b',
      '\\.(js|css)$',
      '\\d{2,3}',
      'ünïcödé ✓',
    ];
    for (const value of values) {
      const nodes = [block('b', [value], [d(value, value, 'x')])];
      expect(parseNginx(printNginx(nodes)), JSON.stringify(value)).toEqual(nodes);
    }
  });
});

describe('parseNginx', () => {
  it('round-trips a realistic site: parse(print(ast)) equals the ast, comments and blanks included', () => {
    const ast = site();
    expect(parseNginx(printNginx(ast))).toEqual(ast);
    expect(parseNginx(printNginx(ast), { comments: false, blanks: false })).toEqual(stripTrivia(ast));
  });

  it('reads hand-written config: single quotes, escapes, multi-line args, comments', () => {
    const text = [
      '# top comment',
      'http {',
      '    log_format json escape=json \'{"a":"$b"}\';',
      '',
      '',
      '    log_format main',
      "        '$remote_addr - $remote_user [$time_local] '",
      '        \'"$request" $status\';   # classic',
      '    server {   # the site',
      '        listen 443 ssl;listen [::]:443 ssl;',
      '        add_header X-Test "a \\"quoted\\" \\\\ \\. value";',
      '        if ($host = "x.org") { return 301 https://www.x.org$request_uri; }',
      `        set $a ${HOST_VAR}x;`,
      '        location ~ ^/a\\ b { return 204; }',
      '    } # end server',
      '}',
    ].join('\n');
    expect(parseNginx(text)).toEqual([
      { kind: 'comment', text: 'top comment' },
      {
        kind: 'block',
        name: 'http',
        args: [],
        children: [
          { kind: 'directive', name: 'log_format', args: ['json', 'escape=json', '{"a":"$b"}'] },
          { kind: 'blank' },
          {
            kind: 'directive',
            name: 'log_format',
            args: ['main', '$remote_addr - $remote_user [$time_local] ', '"$request" $status'],
            comment: 'classic',
          },
          {
            kind: 'block',
            name: 'server',
            args: [],
            comment: 'the site',
            children: [
              { kind: 'directive', name: 'listen', args: ['443', 'ssl'] },
              { kind: 'directive', name: 'listen', args: ['[::]:443', 'ssl'] },
              { kind: 'directive', name: 'add_header', args: ['X-Test', 'a "quoted" \\ \\. value'] },
              {
                kind: 'block',
                name: 'if',
                args: ['($host', '=', 'x.org', ')'],
                children: [
                  { kind: 'directive', name: 'return', args: ['301', 'https://www.x.org$request_uri'] },
                ],
              },
              { kind: 'directive', name: 'set', args: ['$a', `${HOST_VAR}x`] },
              {
                kind: 'block',
                name: 'location',
                args: ['~', '^/a\\ b'],
                children: [{ kind: 'directive', name: 'return', args: ['204'] }],
              },
            ],
          },
          { kind: 'comment', text: 'end server' },
        ],
      },
    ]);
  });

  it('can drop comments and blank lines', () => {
    const text = '# c\na 1; # inline\n\nb { # x\n    c; }\n';
    expect(parseNginx(text, { comments: false, blanks: false })).toEqual([
      { kind: 'directive', name: 'a', args: ['1'] },
      { kind: 'block', name: 'b', args: [], children: [{ kind: 'directive', name: 'c', args: [] }] },
    ]);
  });

  it('gives the printer canonical output back for canonical input', () => {
    const text = printNginx(site());
    expect(printNginx(parseNginx(text))).toBe(text);
  });
});

describe('parse errors name the line', () => {
  const cases: [string, string, RegExp][] = [
    [
      'missing ; before }',
      'server {\n    listen 80\n}\n',
      /^line 2: directive "listen" .*missing ";" after "80"/,
    ],
    ['missing ; at end of file', 'user nginx;\nworker_processes auto\n', /^line 2: .*missing ";"/],
    ['unclosed block', 'http {\n    server {\n        listen 80;\n    }\n', /^line 1: block "http" .*"}"/],
    ['extra }', 'events {}\n}\n', /^line 2: unexpected "}"/],
    ['; without a directive', 'a;\n\n;\n', /^line 3: unexpected ";"/],
    ['unclosed string', 'a;\nadd_header X "oops;\n}\n', /^line 2: the string .* never closed/],
    ['text right after a quote', 'a;\nb "x"y;\n', /^line 2: unexpected "y" after a quoted string/],
  ];
  for (const [title, text, message] of cases) {
    it(title, () => {
      expect(() => parseNginx(text)).toThrow(message);
    });
  }

  it('reports the file and exposes the line', () => {
    let caught: unknown;
    try {
      parseNginx('a;\nb {\n', { file: 'nginx/site.conf' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NginxParseError);
    expect((caught as NginxParseError).line).toBe(2);
    expect((caught as NginxParseError).message).toMatch(/^nginx\/site\.conf:2: /);
  });

  it('counts lines inside multi-line strings', () => {
    expect(() => parseNginx('a "x\ny\nz";\nb\n}')).toThrow(/^line 4: directive "b"/);
  });
});

describe('queries', () => {
  const ast = parseNginx(printNginx(site()));

  it('findBlocks searches every depth and filters with a predicate', () => {
    expect(findBlocks(ast, 'location')).toHaveLength(5);
    const [images] = findBlocks(ast, 'location', (b) => b.args[0] === '~*');
    expect(images?.args).toEqual(['~*', '\\.(png|css)$']);
    expect(findBlocks(ast, 'nope')).toEqual([]);
  });

  it('findDirectives searches every depth', () => {
    expect(findDirectives(ast, 'add_header').map((x) => x.args[0])).toEqual([
      'Content-Security-Policy',
      'Strict-Transport-Security',
      'Cache-Control',
    ]);
    expect(findDirectives(ast, 'access_log').map((x) => x.args)).toEqual([
      ['/var/log/nginx/portal.access.log', 'json'],
      ['off'],
    ]);
  });

  it('directivesOf and blocksOf look at direct children only', () => {
    const [server] = findBlocks(ast, 'server');
    if (server === undefined) throw new Error('no server block');
    expect(directivesOf(server, 'listen').map((x) => x.args)).toEqual([
      ['443', 'ssl'],
      ['[::]:443', 'ssl'],
    ]);
    expect(directivesOf(server, 'expires')).toEqual([]);
    expect(directivesOf(server, 'add_header')).toHaveLength(2);
    expect(blocksOf(server, 'location', (b) => b.args[0] === '=')).toHaveLength(1);
    expect(directivesOf(ast, 'log_format')).toHaveLength(1);
    const [map] = blocksOf(ast, 'map');
    expect(map && directivesOf(map, '')[0]?.args).toEqual(['close']);
  });
});
