// Make the embedded ipywidgets work on this static, offline site. Loaded before require.js
// and the widget manager (see nb_ipywidgets_js in _config.yml).
(function () {
  // 1. Tell require.js where the vendored widget manager lives, so the fonts and styles it
  //    loads from beside itself are found here instead of under a CDN-like path. A global
  //    `require` object defined before require.js loads is read as its configuration.
  var base = document.currentScript.src.replace(/widgets-offline\.js.*$/, "");
  var config = { paths: { "@jupyter-widgets/html-manager/dist": base + "vendor/html-manager" } };
  if (window.require && typeof window.require.config === "function") {
    window.require.config(config);
  } else {
    window.require = config;
  }
  // 2. The widgets typeset their labels with MathJax 2's `MathJax.Hub.Queue`; this site uses
  //    MathJax 3. Give MathJax 3 that one entry point once it has loaded.
  function shimMathJaxHub() {
    var mj = window.MathJax;
    if (mj && !mj.Hub) {
      mj.Hub = {
        Queue: function (job) {
          var element = Array.isArray(job) ? job[2] : undefined;
          if (element && typeof mj.typesetPromise === "function") { mj.typesetPromise([element]); }
        },
      };
    }
  }
  document.addEventListener("DOMContentLoaded", shimMathJaxHub);
})();
