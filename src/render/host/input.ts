import type { CoreModel } from '../../model/core.ts';
import type { HostModel } from '../../model/host.ts';

/** What the host renderers read: the core model plus the host sub-model. */
export type HostInput = CoreModel & { host: HostModel };
