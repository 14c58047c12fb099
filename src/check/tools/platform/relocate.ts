/** One absolute path (a file or a folder) and where a throwaway copy puts it. */
export interface PathMove {
  from: string;
  to: string;
}

// An absolute path as a token: after the start of a line, blank, quote, `=` or `(`; up to a blank, `;`, a quote,
// a brace or a parenthesis. `include /etc/nginx/conf.d/*.conf;`, `credentials_file: /run/secrets/x`.
const PATH_TOKEN = /(?<=^|[\s"'=(])\/[^\s;"'{}()]*/gm;

const within = (path: string, dir: string) =>
  path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/**
 * Moves every absolute path of `text` that is one of `moves` (or inside one; the longest wins) to its new place.
 * Paths equal to or inside a `keep` entry stay where they are (files of the installed package).
 */
export function relocatePaths(
  text: string,
  moves: readonly PathMove[],
  keep: readonly string[] = [],
): string {
  const ordered = [...moves].sort((a, b) => b.from.length - a.from.length);
  return text.replace(PATH_TOKEN, (token) => {
    if (keep.some((k) => within(token, k))) return token;
    const move = ordered.find((m) => within(token, m.from));
    return move ? move.to + token.slice(move.from.length) : token;
  });
}

/**
 * Replaces the throwaway paths in a tool's message with the names a reader knows: `names` maps an absolute
 * path of the copy to a tree path or the production path. Longest first, so files win over their folders.
 */
export function describePaths(text: string, names: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [path, name] of [...names].sort((a, b) => b[0].length - a[0].length))
    out = out.split(path).join(name);
  return out;
}
