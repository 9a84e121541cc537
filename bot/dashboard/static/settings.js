// The value box starts with the chosen setting's current value (a change is then an edit),
// unless the page came back with what was typed (a refusal shows it again).
(function () {
  "use strict";
  var key = document.getElementById("key");
  var value = document.getElementById("value");
  if (!key || !value) {
    return;
  }
  var fill = function () {
    var chosen = key.options[key.selectedIndex];
    value.value = chosen ? chosen.dataset.current || "" : "";
  };
  key.addEventListener("change", fill);
  if (!value.value) {
    fill();
  }
})();
