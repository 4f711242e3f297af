// For pages that need crypto before anything else runs (the nurse's dashboard): import this
// first and the shared modules that read `e2e` from ./lazy.js (teamview.js) see it at once.
import * as m from "./index.js";
import { provide } from "./lazy.js";

provide(m);
