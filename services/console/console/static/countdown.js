// Live countdowns: every element with data-due (an ISO time) shows the time left, every second, and turns
// red (class "overdue") once the time has passed. The words come from the page (data-left, data-overdue),
// so they follow the person's language. Elements htmx swaps in are picked up on the next tick.
(function () {
  "use strict";

  function two(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function span(ms) {
    var seconds = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(seconds / 86400);
    var rest = two(Math.floor((seconds % 86400) / 3600)) + ":" + two(Math.floor((seconds % 3600) / 60)) + ":" + two(seconds % 60);
    return days > 0 ? days + "d " + rest : rest;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      var words = left > 0 ? el.getAttribute("data-left") : el.getAttribute("data-overdue");
      el.textContent = (words || "{time}").replace("{time}", span(left));
      el.classList.toggle("overdue", left <= 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
