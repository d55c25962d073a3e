// Inlined by checkin.html, allowed by its SHA-256 in the CSP (handlers/web/security.py).
(function () {
  var status = document.getElementById("geo-status");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var accuracy = document.getElementById("accuracy");
  var again = document.getElementById("locate");

  function say(text, state) {
    status.textContent = text;
    if (state) { status.setAttribute("data-state", state); } else { status.removeAttribute("data-state"); }
  }

  function locate() {
    if (!("geolocation" in navigator)) {
      say("This browser cannot share its location. Type the coordinates below.", "error");
      return;
    }
    say("Finding your location…");
    navigator.geolocation.getCurrentPosition(function (position) {
      var c = position.coords;
      lat.value = c.latitude.toFixed(6);
      lon.value = c.longitude.toFixed(6);
      accuracy.value = Math.round(c.accuracy);
      say("📍 Location found, accurate to ±" + Math.round(c.accuracy) + " m.", "ok");
    }, function (error) {
      if (error.code === 1) {
        say("Location access was denied. Allow it for this site and tap the button below, or type the coordinates.", "error");
      } else {
        say("Could not get your location (" + error.message + "). Try again, or type the coordinates.", "error");
      }
    }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 0});
  }

  again.hidden = false;
  again.addEventListener("click", locate);
  if (lat.value && lon.value) {
    say("Using the coordinates entered" + (accuracy.value ? " (±" + accuracy.value + " m)." : "."), "ok");
  } else {
    locate();
  }
})();
