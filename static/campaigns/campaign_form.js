// The campaign form: show the UTM tags the naming convention will use while they are left empty
// (source = channel code, medium = channel group, campaign = campaign code; see campaigns/utm.py).
(function () {
  "use strict";
  function slugify(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9\s-]/g, "").trim().replace(/[\s-]+/g, "-").slice(0, 60);
  }
  function init() {
    var form = document.getElementById("campaign-form");
    if (!form || !form.dataset.utmChannels) return;
    var channels = JSON.parse(form.dataset.utmChannels);
    var field = function (name) { return form.querySelector("[name=" + name + "]"); };
    var name = field("name"), code = field("code"), channel = field("channel");
    function suggest() {
      var tags = channels[channel.value] || {};
      var campaignCode = code.value.trim() || slugify(name.value);
      field("utm_source").placeholder = tags.utm_source || "";
      field("utm_medium").placeholder = tags.utm_medium || "";
      field("utm_campaign").placeholder = campaignCode;
      code.placeholder = slugify(name.value);
    }
    [name, code, channel].forEach(function (el) {
      if (el) el.addEventListener("input", suggest);
      if (el) el.addEventListener("change", suggest);
    });
    suggest();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
