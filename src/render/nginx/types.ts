import type { CoreModel } from '../../model/core.ts';
import type { EdgeModel } from '../../model/edge.ts';

/** What the nginx renderers read: the core model plus the edge sub-model. */
export type NginxInput = CoreModel & { edge: EdgeModel };
