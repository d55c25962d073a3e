// Inlined by checkin.html, allowed by its SHA-256 in the CSP (handlers/web/security.py).
// What it says comes translated from the page: data-* attributes of #geo-status, with
// {m} (metres) and {error} (the browser's own reason) filled in here.
(function () {
  var status = document.getElementById("geo-status");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var accuracy = document.getElementById("accuracy");
  var again = document.getElementById("locate");

  function text(name, values) {
    var message = status.getAttribute("data-" + name) || "";
    for (var key in values) {
      message = message.split("{" + key + "}").join(String(values[key]));
    }
    return message;
  }

  function say(message, state) {
    status.textContent = message;
    if (state) { status.setAttribute("data-state", state); } else { status.removeAttribute("data-state"); }
  }

  function locate() {
    if (!("geolocation" in navigator)) {
      say(text("no-geolocation"), "error");
      return;
    }
    say(text("finding"));
    navigator.geolocation.getCurrentPosition(function (position) {
      var c = position.coords;
      lat.value = c.latitude.toFixed(6);
      lon.value = c.longitude.toFixed(6);
      accuracy.value = Math.round(c.accuracy);
      say("📍 " + text("found", {m: Math.round(c.accuracy)}), "ok");
    }, function (error) {
      if (error.code === 1) {
        say(text("denied"), "error");
      } else {
        say(text("failed", {error: error.message}), "error");
      }
    }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 0});
  }

  again.hidden = false;
  again.addEventListener("click", locate);
  if (lat.value && lon.value) {
    say(accuracy.value ? text("entered-accuracy", {m: accuracy.value}) : text("entered"), "ok");
  } else {
    locate();
  }
})();
