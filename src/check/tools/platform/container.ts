import type { MonitoringService } from '../../../model/monitoring.ts';
import type { TreeFiles } from '../../types.ts';
import { treePathsUnder, under } from './exec.ts';
import { type PathMove, relocatePaths } from './relocate.ts';

/** What a secret file holds in a throwaway copy. */
export const DUMMY_SECRET = 'academy-check-dummy-value\n';

/**
 * A container's view of its files, rebuilt under `root`: each mounted tree file at `root` + its container path
 * (absolute container paths in them moved along), each secret a dummy file at `root` + /run/secrets/<name>.
 */
export interface ContainerCopy {
  /** Absolute path in the copy -> content. */
  files: Map<string, string>;
  /** Secret files to create (absolute path in the copy). */
  secrets: string[];
  /** Tree path -> its path in the copy. */
  copies: Map<string, string>;
  /** Absolute path in the copy -> the name a reader knows (tree path, or the container path of a secret). */
  names: Map<string, string>;
  moves: PathMove[];
}

export function containerCopy(
  tree: TreeFiles,
  service: Pick<MonitoringService, 'configMounts' | 'secrets'>,
  root: string,
): ContainerCopy {
  const moves: PathMove[] = [
    ...service.configMounts.map((m) => ({ from: m.target, to: under(root, m.target) })),
    ...service.secrets.map((s) => ({ from: s.containerPath, to: under(root, s.containerPath) })),
  ];
  const files = new Map<string, string>();
  const copies = new Map<string, string>();
  const names = new Map<string, string>();
  for (const mount of service.configMounts) {
    const sources = tree.files.has(mount.source) ? [mount.source] : treePathsUnder(tree, mount.source);
    for (const treePath of sources) {
      const inside = mount.target + treePath.slice(mount.source.length);
      const path = under(root, inside);
      files.set(path, relocatePaths(tree.files.get(treePath)?.content ?? '', moves));
      copies.set(treePath, path);
      names.set(path, treePath);
    }
  }
  const secrets = service.secrets.map((s) => under(root, s.containerPath));
  for (const s of service.secrets) names.set(under(root, s.containerPath), s.containerPath);
  // Folders last (shortest), so a message naming a file gets the file's name.
  for (const m of moves) if (!names.has(m.to)) names.set(m.to, m.from);
  return { files, secrets, copies, names, moves };
}

/** The monitoring service that mounts `containerPath` (its configuration file). */
export function serviceReading(
  services: MonitoringService[],
  containerPath: string,
): MonitoringService | undefined {
  return services.find((s) =>
    s.configMounts.some((m) => containerPath === m.target || containerPath.startsWith(`${m.target}/`)),
  );
}
