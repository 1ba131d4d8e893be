// The pages' only script: live updates and the control forms. Every page
// reads fine without it; nothing here builds HTML from strings (text goes
// in through textContent, fragments come escaped from the master).
(function () {
  'use strict';
  var base = document.body.getAttribute('data-base') || '';

  function say(form, text, ok) {
    var p = form.querySelector('.notice');
    if (!p) {
      p = document.createElement('span');
      p.className = 'notice';
      form.appendChild(p);
    }
    p.textContent = text;
    p.setAttribute('data-ok', ok ? 'yes' : 'no');
  }

  // Control: Buildbot's JSON-RPC shape, POSTed as JSON (the master refuses
  // a control request that is not JSON or comes from another origin).
  function rpc(path, method, params) {
    return fetch(base + path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: method, params: params })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok || body.error) {
          var e = body.error;
          throw new Error((e && (e.message || e)) || ('HTTP ' + r.status));
        }
        return body.result !== undefined ? body.result : body;
      });
    });
  }

  function formParams(form) {
    var params = {};
    var builders = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      if (el.name === 'builders') { if (el.checked) builders.push(el.value); return; }
      if (el.value === '') return;
      params[el.name] = el.type === 'number' ? Number(el.value) : el.value;
    });
    if (form.querySelector('[name=builders]')) params.builders = builders;
    return params;
  }

  function onControl(ev) {
    ev.preventDefault();
    var form = ev.target;
    var m = form.getAttribute('data-method');
    var p = formParams(form);
    var call;
    if (m === 'force') {
      call = rpc('/api/v2/forceschedulers/' + encodeURIComponent(form.getAttribute('data-scheduler')), 'force', p);
    } else if (m === 'stop' || m === 'rebuild') {
      call = rpc('/api/v2/builders/' + encodeURIComponent(form.getAttribute('data-builder')) +
                 '/builds/' + form.getAttribute('data-number'), m, {});
    } else if (m === 'stop_slave') {
      call = rpc('/api/v2/workers/' + encodeURIComponent(form.getAttribute('data-slave')), 'stop', {});
    } else if (m === 'cancel' || m === 'priority') {
      if (m === 'priority') p = { priority: Number(p.priority) };
      call = rpc('/api/v2/buildrequests/' + form.getAttribute('data-request'), m, p);
    } else {
      return;
    }
    say(form, 'working...', true);
    call.then(function (r) {
      var text = 'done';
      if (r && r.buildset_id) text = 'BuildSet ' + r.buildset_id + ' created';
      if (r && r.state === 'draining') text = 'draining: it stops once its builds end';
      say(form, text, true);
    }, function (e) { say(form, 'refused: ' + e.message, false); });
  }

  function bindControls(root) {
    Array.prototype.forEach.call(root.querySelectorAll('form.control'), function (f) {
      f.addEventListener('submit', onControl);
    });
  }
  bindControls(document);

  // A running log's tail: fetch what was stored after what is shown.
  var log = document.getElementById('log');
  if (log && log.getAttribute('data-finished') === 'false' && log.getAttribute('data-tail') === 'true') {
    var busy = false;
    var tail = function () {
      if (busy) return;
      busy = true;
      var url = base + '/logs/' + log.getAttribute('data-log') + '/tail?offset=' + log.getAttribute('data-next');
      fetch(url, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (t) {
        busy = false;
        if (t.html) log.insertAdjacentHTML('beforeend', t.html);  // escaped by the master
        log.setAttribute('data-next', String(t.next));
        if (t.finished) {
          log.setAttribute('data-finished', 'true');
          var live = document.getElementById('live');
          if (live) live.textContent = 'finished';
          clearInterval(timer);
        }
      }, function () { busy = false; });
    };
    var timer = setInterval(tail, 1000);
  }

  // Pages that show running work reload their main part when the master
  // says something happened (Server-Sent Events), or every few seconds
  // when events are not available.
  var live = document.querySelector('[data-live]');
  if (live) {
    var pending = null;
    var refresh = function () {
      pending = null;
      fetch(window.location.href, { credentials: 'same-origin' }).then(function (r) { return r.text(); }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.querySelector('[data-live]');
        var now = document.querySelector('[data-live]');
        if (fresh && now) {
          var node = document.importNode(fresh, true);
          now.replaceWith(node);
          bindControls(node);
        }
      });
    };
    var soon = function () { if (!pending) pending = setTimeout(refresh, 300); };
    var topics = live.getAttribute('data-live');
    if (window.EventSource) {
      var es = new EventSource(base + '/api/v2/events?topics=' + encodeURIComponent(topics));
      es.onmessage = soon;
      ['build.started', 'build.finished', 'step.started', 'step.finished', 'change.added',
       'request.created', 'slave.attached', 'slave.detached', 'scheduler.state'].forEach(function (t) {
        es.addEventListener(t, soon);
      });
      es.onerror = function () { es.close(); setInterval(refresh, 5000); };
    } else {
      setInterval(refresh, 5000);
    }
  }
})();
