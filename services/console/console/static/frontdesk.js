// The new request form: choosing a known reporter fills the name and phone from the unit's archive
// (the person can still change them). Without JavaScript the chosen party is sent as it is.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || select.id !== "party_id") return;
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) return;
    document.getElementById("reporter_name").value = option.getAttribute("data-name") || "";
    document.getElementById("reporter_phone").value = option.getAttribute("data-phone") || "";
  });
})();
