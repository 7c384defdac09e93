// The browser view's own stylesheet (the lesson's is render.ts's LESSON_CSS): the verdict panel
// beside the lesson, the timeline drawer under them, the hover tip.
export const APP_CSS = `#verdict{border-left:1px solid #d8dee4;padding:.8rem 1rem 6rem;font-size:14px;position:sticky;top:0;height:100vh;overflow-y:auto;background:#fbfcfd}
#verdict h2{font-size:15px;margin:.2rem 0 .3rem;border:0;padding:0}
#verdict .head{display:flex;justify-content:space-between;align-items:baseline;gap:.5rem}
#verdict .headline{font-weight:600;font-size:15px;margin:.3rem 0}
.pass{color:#1a7f37}.fail{color:#cf222e}.muted{color:#57606a}.warn{color:#9a6700}
#verdict .conn{font-size:12px}#verdict .conn.off{color:#cf222e}
.test{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .6rem;margin:.5rem 0;background:#fff}
.test .name{font-weight:600}
.test .msg{color:#9a6700;margin:.2rem 0}
.test>pre{font-size:12px;white-space:pre-wrap;word-break:break-word}
.diag{margin:.5rem 0 .2rem}
.code{display:inline-block;font:600 12px ui-monospace,monospace;background:#ffebe9;color:#82071e;border-radius:4px;padding:.05rem .35rem}
.diag pre{font-size:12px;white-space:pre-wrap;word-break:break-word;margin:.3rem 0;padding:.4rem .5rem;background:#f6f8fa}
.sites{margin:0;padding-left:1rem;font-size:12.5px}.sites a{font-family:ui-monospace,monospace}
.lessonlink{display:block;margin:.5rem 0;font-weight:600}
button{font:inherit;font-size:13px;padding:.2rem .6rem;border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa;cursor:pointer}
button:hover{background:#eaeef2}
.hint{background:#ddf4ff;border-radius:6px;padding:.4rem .6rem;margin:.5rem 0}
.hint p{margin:.2rem 0}
details{margin:.3rem 0}details pre{font-size:11.5px;max-height:14rem;overflow:auto}
.passing{font-size:12.5px;color:#57606a;margin:.2rem 0 0;padding-left:1rem}
#timeline{position:fixed;left:0;right:0;bottom:0;height:19rem;background:#fff;border-top:2px solid #d0d7de;box-shadow:0 -2px 8px rgba(0,0,0,.08);display:flex;flex-direction:column;z-index:5}
#timeline[hidden]{display:none}
#timeline .bar{display:flex;gap:.6rem;align-items:center;padding:.25rem .8rem;font-size:13px;border-bottom:1px solid #eaeef2}
#timeline .bar .title{font-weight:600}#timeline .bar .spacer{flex:1}
#timeline .plot{flex:1;overflow-y:auto;overflow-x:hidden;position:relative;cursor:grab}
#timeline .plot.dragging{cursor:grabbing}
#timeline svg{display:block;font:11px ui-monospace,monospace;user-select:none}
#timeline .legend{font-size:11.5px;color:#57606a;padding:.15rem .8rem;border-top:1px solid #eaeef2}
#timeline .legend i{display:inline-block;width:.8rem;height:.6rem;margin:0 .25rem 0 .6rem;vertical-align:middle}
body.has-timeline main,body.has-timeline #verdict{padding-bottom:21rem}
#tip{position:fixed;z-index:10;pointer-events:none;background:#1f2328;color:#fff;font:12px/1.4 ui-monospace,monospace;padding:.35rem .5rem;border-radius:4px;max-width:40rem;white-space:pre-wrap}
#tip[hidden]{display:none}`;
