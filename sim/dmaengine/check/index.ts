// The DMA engine checker (dmalab's, the kernel has none): registers on the dmaengine core's
// hooks (sim/dmaengine/hooks.ts), on the mapping layer's watch (unmaps, kfree, the
// controller's accesses: sim/dma/ownership.ts), on waits that time out, oopses, and the driver
// core's probe and unbind. Here the descriptors' life cycle is kept; client.ts and provider.ts
// say what is wrong with it.
import { set_engine_hooks } from '../hooks.ts';
import { set_owner_watch } from '../../dma/ownership.ts';
import { wait_timeout_hooks } from '../../kernel/completion.ts';
import { oops_hooks } from '../../kernel/die.ts';
import { bind_watches } from '../../base/dd.ts';
import { chan_of, desc_of, drop, rearm, settle, st } from './state.ts';
import * as C from './client.ts';
import * as P from './provider.ts';

set_engine_hooks({
  request: C.on_request,
  release(chan, site) {
    const s = st(), c = chan_of(s, chan);
    c.held = false;
    P.after_release(c, site);
    for (const d of c.all) { s.running.delete(d); s.cb_live.delete(d); }
    c.all.clear();
    c.queue.length = c.issued.length = 0;
    c.term = null;
    rearm(s);
  },
  config: C.on_config,
  prep(chan, tx, kind, ranges, site) {
    const d = C.on_prep(chan, tx, kind, ranges, site);
    if (d) P.unwatch(st(), d);
  },
  submit: C.on_submit,
  submitted(tx, cookie, site) {
    const d = C.on_submitted(tx, cookie, site);
    if (d) P.unwatch(st(), d);
  },
  submit_error: C.on_submit_error,
  issue: C.on_issue,
  status(chan, cookie, status, state, site) {
    C.on_status(chan, cookie, site);
    P.check_residue(chan_of(st(), chan), cookie, status, state, site);
  },
  pause: C.on_pause,
  resume: C.on_resume,
  terminate: C.on_terminate,
  sync: C.on_sync,
  synced(chan, site) {
    const s = st(), c = chan_of(s, chan);
    const t = c.term;
    if (!t) return;
    c.term = null;
    for (const d of t.descs) {
      d.terminated = false;
      settle(s, d, true, true);
    }
    P.after_terminate(s, c, t.descs, t.site, site);
    rearm(s);
  },
  complete(tx) {
    const s = st(), d = desc_of(tx);
    if (!d) return;
    P.check_complete(d);
    if (d.terminated) return;
    d.state = 'done';
    drop(d.ch.issued, d);
    drop(d.ch.queue, d);
    settle(s, d, true, false);
  },
  callback(tx, begin) {
    const s = st(), d = tx ? desc_of(tx) : null;
    if (!d) return;
    if (begin) {
      P.check_callback(d);
      s.in_cb.push(d);
      return;
    }
    s.in_cb.pop();
    if (d.kind !== 'cyclic') settle(s, d, false, true);
  },
  free(tx) {
    const s = st(), d = desc_of(tx);
    if (!d) return;
    d.state = 'freed';
    d.ch.all.delete(d);
    drop(d.ch.issued, d);
    drop(d.ch.queue, d);
    settle(s, d, true, true);
  },
});

set_owner_watch({ unmap: C.on_unmap, kfree: C.on_kfree, access: P.on_access, unmapped: C.on_unmapped });
wait_timeout_hooks.push(C.on_wait_timeout);
oops_hooks.push(C.on_oops);
bind_watches.push({ probed: C.on_probed, left_behind: C.on_left_behind });
