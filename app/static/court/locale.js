// The widgets FAB ships in English read Chinese (issue 15 item 4). The texts come from the server's
// catalog (#court-i18n, app/views/page_texts.py); this only hands them to the widgets. Loaded after
// ab.js and before jQuery's ready handlers run, so FAB's own set-up already sees the defaults.
(function ($) {
  var node = document.getElementById("court-i18n");
  if (!node || !$) { return; }
  var t = JSON.parse(node.textContent);
  var lang = document.documentElement.getAttribute("lang") || "zh-CN";

  if ($.fn.datepicker) {
    $.fn.datepicker.dates[lang] = t.datepicker;
    $.fn.datepicker.defaults.language = lang;
    $.fn.datepicker.defaults.weekStart = t.datepicker.weekStart;
  }

  var s = t.select2;
  function fill(text, n) { return text.replace("{n}", n); }
  var language = {
    removeAllItems: function () { return s.removeAllItems; },
    removeItem: function () { return s.removeItem; },
    noResults: function () { return s.noResults; },
    searching: function () { return s.searching; },
    loadingMore: function () { return s.loadingMore; },
    errorLoading: function () { return s.errorLoading; },
    inputTooShort: function (a) { return fill(s.inputTooShort, a.minimum - a.input.length); },
    maximumSelected: function (a) { return fill(s.maximumSelected, a.maximum); }
  };
  if ($.fn.select2 && $.fn.select2.defaults) {
    $.fn.select2.defaults.set("language", language);
  }

  // FAB's ab_alert gets English from ab_actions.js ("No row selected")
  if (typeof window.ab_alert === "function") {
    var original = window.ab_alert;
    window.ab_alert = function (text) { return original(t.alerts[text] || text); };
  }

  // ab.js sets up select2 with an English placeholder ("Select a State"); set them up again in Chinese
  $(function () {
    if (!$.fn.select2) { return; }
    $(".my_select2").each(function () {
      var el = $(this);
      el.select2({placeholder: el.attr("data-placeholder") || s.placeholder, allowClear: true,
                  theme: "bootstrap", language: language});
    });
  });
})(window.jQuery);
