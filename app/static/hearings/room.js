/* 视频调解 room: getUserMedia + a mesh of RTCPeerConnections, signaling through the app.
 *
 * The server (app/workflows/hearings.py) keeps the room in the database: this page
 * enters it (POST join → its session), then polls for signals and for who is in the
 * room. The later session offers to the earlier ones; a page that re-enters is a new
 * session, so the others drop the old connection and answer the new offer.
 * With VIDEO_BACKEND=janus (cfg.janus_url) the media go through Janus instead: the join answer
 * carries this entry's room, pin and token; the page publishes its camera into the VideoRoom room
 * and subscribes to every other publisher (one handle each), over Janus's HTTP API with long polls
 * (the section "SFU" below; janus.js is not packaged, so this is a small client of its own).
 * Presence, the roster and 结束视频 still come from the app's polling.
 * The mediator's page can record: a canvas composing every tile plus all audio mixed
 * through WebAudio, recorded by MediaRecorder and uploaded in pieces while it runs.
 * Served by the app (no CDN). Strings come translated in the page's config.
 */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("room-config").textContent);
  var T = cfg.text;
  var room = {session: null, after: 0, peers: {}, names: {}, local: null, stopped: false, recorder: null};
  window.courtRoom = room;

  function $(id) { return document.getElementById(id); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function status(text, cls) {
    var el = $("room-status");
    el.textContent = text || "";
    el.className = cls ? "alert alert-" + cls : "text-muted";
  }

  function call(method, url, body) {
    var opts = {method: method, credentials: "same-origin", headers: {"X-CSRFToken": cfg.csrf}};
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {status: "error", reason: T.network}; })
        .then(function (j) { j.http = r.status; return j; });
    });
  }

  // --- tiles ---------------------------------------------------------------------
  function tile(key, label, muted) {
    var box = $("tile-" + key);
    if (!box) {
      box = document.createElement("div");
      box.className = "hearing-tile"; box.id = "tile-" + key; box.dataset.session = key;
      var v = document.createElement("video");
      v.autoplay = true; v.playsInline = true; v.muted = !!muted;
      var n = document.createElement("div"); n.className = "name";
      box.appendChild(v); box.appendChild(n);
      $("tiles").appendChild(box);
    }
    box.querySelector(".name").textContent = label;
    return box.querySelector("video");
  }
  function dropTile(key) { var box = $("tile-" + key); if (box) { box.remove(); } }

  function renderRoster(roster) {
    var ul = $("roster");
    ul.innerHTML = "";
    roster.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.name + "（" + (r.side ? r.side + " · " : "") + r.role + "）" + (r.me ? " · " + T.me : "");
      li.dataset.session = r.session;
      ul.appendChild(li);
      room.names[r.session] = r.name;
      var box = $("tile-" + r.session);
      if (box) { box.querySelector(".name").textContent = r.name; }
    });
  }

  // --- peers -----------------------------------------------------------------------
  function peer(session) {
    if (room.peers[session]) { return room.peers[session]; }
    var pc = new RTCPeerConnection({iceServers: cfg.ice_servers});
    var p = {pc: pc, queue: [], stream: null};
    room.peers[session] = p;
    room.local.getTracks().forEach(function (t) { pc.addTrack(t, room.local); });
    pc.onicecandidate = function (e) {
      if (e.candidate) { send(session, "candidate", e.candidate.toJSON()); }
    };
    pc.ontrack = function (e) {
      var v = tile(session, room.names[session] || "");
      if (v.srcObject !== e.streams[0]) { v.srcObject = e.streams[0]; p.stream = e.streams[0]; v.play().catch(function () {}); }
      if (room.recorder) { room.recorder.addAudio(e.streams[0]); }
    };
    pc.onconnectionstatechange = function () {
      if (pc.connectionState === "failed") { closePeer(session); }
    };
    return p;
  }
  function closePeer(session) {
    var p = room.peers[session];
    if (p) { try { p.pc.close(); } catch (e) { /* closed already */ } delete room.peers[session]; }
    dropTile(session);
  }
  function send(to, kind, data) {
    return call("POST", cfg.signals_url, {session: room.session, to: to, kind: kind, data: data});
  }
  async function offer(session) {
    var p = peer(session);
    await p.pc.setLocalDescription(await p.pc.createOffer());
    await send(session, "offer", p.pc.localDescription.toJSON());
  }
  async function drain(p) {
    while (p.queue.length) { await p.pc.addIceCandidate(p.queue.shift()).catch(function () {}); }
  }
  async function handle(s) {
    if (room.sfu) { if (s.kind === "end") { ended(); } return; }  // the SFU tells who left
    if (s.kind === "leave") { closePeer(s.from); return; }
    if (s.kind === "end") { ended(); return; }
    if (s.kind === "join") { return; }
    var p = s.kind === "offer" ? peer(s.from) : room.peers[s.from];
    if (!p) { return; }
    if (s.kind === "offer") {
      await p.pc.setRemoteDescription(s.data);
      await drain(p);
      await p.pc.setLocalDescription(await p.pc.createAnswer());
      await send(s.from, "answer", p.pc.localDescription.toJSON());
    } else if (s.kind === "answer") {
      if (p.pc.signalingState === "have-local-offer") { await p.pc.setRemoteDescription(s.data); await drain(p); }
    } else if (s.kind === "candidate") {
      if (p.pc.remoteDescription) { await p.pc.addIceCandidate(s.data).catch(function () {}); } else { p.queue.push(s.data); }
    }
  }
  function sync(roster) {
    if (room.sfu) { return; }
    var others = roster.filter(function (r) { return !r.me; }).map(function (r) { return r.session; });
    Object.keys(room.peers).forEach(function (k) { if (others.indexOf(+k) < 0) { closePeer(+k); } });
    others.forEach(function (s) {
      if (!room.peers[s] && s < room.session) { offer(s).catch(function (e) { console.warn(e); }); }
    });
  }

  async function poll() {
    while (!room.stopped) {
      var j;
      try {
        j = await call("GET", cfg.signals_url + "?session=" + room.session + "&after=" + room.after);
      } catch (e) { if (room.stopped) { return; } status(T.network, "warning"); await sleep(1500); continue; }
      if (room.stopped) { return; }  // the room ended (the SFU said so) while this request was out: keep that status
      if (j.http === 409) { status(T.superseded, "warning"); stop(false); return; }
      if (j.status === "error") { status(j.reason, "danger"); if (j.http >= 500) { await sleep(1500); continue; } stop(false); return; }
      if (!j.open) { ended(); return; }
      status(T.in_room);
      room.after = j.last;
      renderRoster(j.roster);
      for (var i = 0; i < j.signals.length; i++) {
        try { await handle(j.signals[i]); } catch (e) { console.warn(e); }
      }
      sync(j.roster);
      await sleep(cfg.poll_ms);
    }
  }

  function stop(announce) {
    room.stopped = true;
    if (room.recorder) { room.recorder.stop(); }
    if (room.sfu) { room.sfu.close(); }
    Object.keys(room.peers).forEach(function (k) { closePeer(+k); });
    if (announce && room.session) {
      var data = new FormData();
      data.append("csrf_token", cfg.csrf); data.append("session", room.session);
      navigator.sendBeacon(cfg.leave_url, data);
    }
    $("controls").classList.add("hidden");
    $("after-leave").classList.remove("hidden");
  }
  function ended() {
    status(T.ended, "warning");
    stop(false);
    if (room.local) { room.local.getTracks().forEach(function (t) { t.stop(); }); }
  }

  async function enter() {
    $("enter").disabled = true;
    status(T.connecting);
    try {
      room.local = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 360}});
    } catch (e) {
      status(T.no_devices, "danger"); $("enter").disabled = false; return;
    }
    tile("local", T.me, true).srcObject = room.local;
    var j = await call("POST", cfg.join_url, {});
    if (j.status !== "ok") { status(j.reason, "danger"); $("enter").disabled = false; return; }
    room.session = j.session; room.after = j.after;
    $("recording-notice").classList.add("hidden");
    $("controls").classList.remove("hidden");
    if (cfg.janus_url && j.sfu) {
      room.sfu = new Sfu(j.sfu);
      room.sfu.start().catch(function (e) { console.warn(e); if (!room.stopped) { status(T.network, "warning"); } });
    }
    poll();
  }

  // --- SFU: Janus VideoRoom over its HTTP API ----------------------------------------------
  function Sfu(creds) {
    var self = this, base = cfg.janus_url.replace(/\/$/, ""), sid = null, handles = {}, closed = false;
    var keepalive = null;
    function tx() { return Math.random().toString(36).slice(2, 12); }
    function post(path, body) {
      body.transaction = tx(); body.token = creds.token;
      return fetch(base + path, {method: "POST", headers: {"Content-Type": "application/json"},
                                 body: JSON.stringify(body)})
        .then(function (r) { return r.json(); })
        .then(function (j) { if (j.janus === "error") { throw new Error(j.error && j.error.reason); } return j; });
    }
    function attach(onmessage) {
      return post("/" + sid, {janus: "attach", plugin: "janus.plugin.videoroom"}).then(function (j) {
        var h = {id: j.data.id, onmessage: onmessage, pc: null};
        handles[h.id] = h;
        h.send = function (body, jsep) {
          var msg = {janus: "message", body: body};
          if (jsep) { msg.jsep = jsep; }
          return post("/" + sid + "/" + h.id, msg);
        };
        return h;
      });
    }
    function connection(h) {
      var pc = new RTCPeerConnection({iceServers: cfg.ice_servers});
      pc.onicecandidate = function (e) {
        if (closed) { return; }
        post("/" + sid + "/" + h.id, {janus: "trickle", candidate: e.candidate ? e.candidate.toJSON() : {completed: true}})
          .catch(function () {});
      };
      h.pc = pc;
      return pc;
    }
    function join(ptype, extra) {
      var body = {request: "join", ptype: ptype, room: creds.room, pin: creds.pin, token: creds.token};
      Object.keys(extra).forEach(function (k) { body[k] = extra[k]; });
      return body;
    }
    function subscribe(feed) {
      if (closed || feed === creds.feed || room.peers[feed]) { return; }
      var p = {pc: null, queue: [], stream: new MediaStream(), handle: null};
      room.peers[feed] = p;
      attach(async function (data, jsep) {
        if (jsep && jsep.type === "offer") {
          var pc = p.pc || connection(p.handle);
          if (!p.pc) {
            p.pc = pc;
            pc.ontrack = function (e) {
              p.stream.addTrack(e.track);
              var v = tile(feed, room.names[feed] || "");
              if (v.srcObject !== p.stream) { v.srcObject = p.stream; v.play().catch(function () {}); }
              if (room.recorder && e.track.kind === "audio") { room.recorder.addAudio(p.stream); }
            };
          }
          await pc.setRemoteDescription(jsep);
          await pc.setLocalDescription(await pc.createAnswer());
          await p.handle.send({request: "start", room: creds.room}, pc.localDescription.toJSON());
        }
      }).then(function (h) {
        p.handle = h;
        return h.send(join("subscriber", {streams: [{feed: feed}]}));
      }).catch(function (e) { console.warn(e); drop(feed); });
    }
    function drop(feed) {
      var p = room.peers[feed];
      if (p && p.handle) {
        delete handles[p.handle.id];
        post("/" + sid + "/" + p.handle.id, {janus: "detach"}).catch(function () {});
      }
      closePeer(feed);
    }
    function publishers(list) {
      (list || []).forEach(function (pub) { subscribe(pub.id); });
    }
    async function onPublisher(data, jsep) {
      var kind = data.videoroom;
      if (kind === "joined") {
        publishers(data.publishers);
        var pc = connection(self.pub);
        room.local.getTracks().forEach(function (t) { pc.addTrack(t, room.local); });
        await pc.setLocalDescription(await pc.createOffer());
        await self.pub.send({request: "publish", audio: true, video: true}, pc.localDescription.toJSON());
      } else if (kind === "event") {
        publishers(data.publishers);
        var gone = data.unpublished || data.leaving;
        if (gone && gone !== "ok") { drop(gone); }
        if (data.error) { status(data.error, "danger"); }
      } else if (kind === "destroyed") {
        ended();
      }
      if (jsep && jsep.type === "answer" && self.pub.pc) { await self.pub.pc.setRemoteDescription(jsep); }
    }
    async function events() {
      while (!closed) {
        var list;
        try {
          var r = await fetch(base + "/" + sid + "?maxev=10&rid=" + Date.now() + "&token=" + encodeURIComponent(creds.token));
          list = await r.json();
        } catch (e) { if (closed) { return; } await sleep(1000); continue; }
        if (!Array.isArray(list)) { list = [list]; }
        for (var i = 0; i < list.length; i++) {
          if (closed) { return; }  // the room ended in this batch: what Janus says after it (an error) is not shown
          var ev = list[i], h = handles[ev.sender];
          if (ev.janus === "error" && ev.error && ev.error.code === 458) { return; }  // session gone
          if (!h || ev.janus !== "event" || !ev.plugindata) { continue; }
          try { await h.onmessage(ev.plugindata.data, ev.jsep); } catch (e) { console.warn(e); }
        }
      }
    }
    this.start = function () {
      return post("", {janus: "create"}).then(function (j) {
        sid = j.data.id;
        events();
        keepalive = setInterval(function () { post("/" + sid, {janus: "keepalive"}).catch(function () {}); }, 25000);
        return attach(onPublisher);
      }).then(function (h) {
        self.pub = h;
        return h.send(join("publisher", {id: creds.feed, display: String(creds.feed)}));
      });
    };
    this.close = function () {
      if (closed) { return; }
      closed = true;
      clearInterval(keepalive);
      if (self.pub && self.pub.pc) { try { self.pub.pc.close(); } catch (e) { /* closed already */ } }
      if (sid) { post("/" + sid, {janus: "destroy"}).catch(function () {}); }
    };
  }

  // --- controls ----------------------------------------------------------------------
  $("enter").addEventListener("click", enter);
  $("mute").addEventListener("click", function () {
    var track = room.local && room.local.getAudioTracks()[0];
    if (!track) { return; }
    track.enabled = !track.enabled;
    this.textContent = track.enabled ? T.mute : T.unmute;
  });
  $("camera").addEventListener("click", function () {
    var track = room.local && room.local.getVideoTracks()[0];
    if (!track) { return; }
    track.enabled = !track.enabled;
    this.textContent = track.enabled ? T.camera_off : T.camera_on;
  });
  $("hangup").addEventListener("click", function () {
    stop(true);
    if (room.local) { room.local.getTracks().forEach(function (t) { t.stop(); }); }
    status(T.left, "info");
  });
  var endForm = $("end-form");
  if (endForm) {
    endForm.addEventListener("submit", function (e) {
      if (!window.confirm($("end").dataset.confirm)) { e.preventDefault(); return; }
      room.stopped = true;
      if (room.recorder) { e.preventDefault(); room.recorder.stop().then(function () { endForm.submit(); }); }
    });
  }
  window.addEventListener("pagehide", function () { if (!room.stopped) { stop(true); } });

  // --- recording (the mediator's page) --------------------------------------------------
  function Recorder() {
    var canvas = document.createElement("canvas");
    canvas.width = 960; canvas.height = 540;
    var ctx = canvas.getContext("2d");
    var audio = new (window.AudioContext || window.webkitAudioContext)();
    var mix = audio.createMediaStreamDestination();
    var mixed = [];
    var self = this, seq = 0, started = 0, uploads = Promise.resolve(), id = null, failed = false;
    this.addAudio = function (stream) {
      if (mixed.indexOf(stream) >= 0 || !stream.getAudioTracks().length) { return; }
      mixed.push(stream);
      audio.createMediaStreamSource(stream).connect(mix);
    };
    function draw() {
      var videos = Array.prototype.slice.call(document.querySelectorAll("#tiles video"));
      var cols = Math.ceil(Math.sqrt(videos.length || 1)), rows = Math.ceil((videos.length || 1) / cols);
      var w = canvas.width / cols, h = canvas.height / rows;
      ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      videos.forEach(function (v, i) {
        if (v.videoWidth) { ctx.drawImage(v, (i % cols) * w, Math.floor(i / cols) * h, w, h); }
      });
    }
    var timer = setInterval(draw, 1000 / 15);
    this.addAudio(room.local);
    Object.keys(room.peers).forEach(function (k) { if (room.peers[k].stream) { self.addAudio(room.peers[k].stream); } });
    var stream = new MediaStream(canvas.captureStream(15).getVideoTracks().concat(mix.stream.getAudioTracks()));
    var type = ["video/webm;codecs=vp8,opus", "video/webm"].filter(function (t) { return MediaRecorder.isTypeSupported(t); })[0];
    var mr = new MediaRecorder(stream, type ? {mimeType: type} : undefined);
    var done = new Promise(function (resolve) { mr.onstop = resolve; });
    mr.ondataavailable = function (e) {
      if (!e.data || !e.data.size || failed) { return; }
      var n = seq++, elapsed = Date.now() - started;
      uploads = uploads.then(function () {
        return fetch(cfg.chunk_url + id + "/" + n + "?elapsed=" + elapsed, {
          method: "POST", credentials: "same-origin", body: e.data,
          headers: {"X-CSRFToken": cfg.csrf, "Content-Type": "application/octet-stream"}
        }).then(function (r) { if (!r.ok) { failed = true; return r.json().then(function (j) { $("record-status").textContent = j.reason; }); } });
      });
    };
    this.start = function () {
      return call("POST", cfg.record_url, {}).then(function (j) {
        if (j.status !== "ok") { throw new Error(j.reason); }
        id = j.id; started = Date.now();
        mr.start(cfg.chunk_ms);
        room.recordingId = id;
      });
    };
    this.stop = function () {
      if (mr.state === "inactive") { return Promise.resolve(); }
      mr.stop();
      clearInterval(timer);
      var duration = Date.now() - started;
      return done.then(function () { return uploads; }).then(function () {
        return call("POST", cfg.chunk_url + id + "/finish", {duration_ms: duration});
      }).then(function () { room.recorder = null; audio.close(); $("record-status").textContent = T.saved; });
    };
  }
  // under Janus with JANUS_RECORDINGS_DIR the server records every stream; the page only says start and stop
  function ServerRecorder() {
    var id = null, started = 0;
    this.addAudio = function () {};
    this.start = function () {
      return call("POST", cfg.record_url, {}).then(function (j) {
        if (j.status !== "ok") { throw new Error(j.reason); }
        id = j.id; started = Date.now(); room.recordingId = id;
      });
    };
    this.stop = function () {
      if (id === null) { return Promise.resolve(); }
      var rid = id;
      id = null;
      return call("POST", cfg.chunk_url + rid + "/finish", {duration_ms: Date.now() - started}).then(function (j) {
        room.recorder = null;
        $("record-status").textContent = j.status === "ok" ? T.saved_server : j.reason;
      });
    };
  }
  var recordButton = $("record");
  if (recordButton) {
    recordButton.addEventListener("click", function () {
      if (room.recorder) {
        recordButton.disabled = true;
        room.recorder.stop().then(function () { recordButton.disabled = false; recordButton.textContent = T.record; });
        return;
      }
      room.recorder = cfg.server_recording ? new ServerRecorder() : new Recorder();
      room.recorder.start().then(function () {
        recordButton.textContent = T.stop_record; $("record-status").textContent = T.recording;
      }).catch(function (e) { room.recorder = null; $("record-status").textContent = e.message; });
    });
  }

  // --- for the browser tests and the curious: what each connection receives ------------
  room.stats = async function () {
    var out = [];
    for (var k in room.peers) {
      var p = room.peers[k], bytes = 0;
      if (!p.pc) { out.push({session: +k, name: room.names[k] || "", videoWidth: 0, bytesReceived: 0, state: "new"}); continue; }
      (await p.pc.getStats()).forEach(function (r) {
        if (r.type === "inbound-rtp" && r.kind === "video") { bytes += r.bytesReceived || 0; }
      });
      var box = $("tile-" + k), v = box && box.querySelector("video");
      out.push({session: +k, name: room.names[k] || "", videoWidth: v ? v.videoWidth : 0, bytesReceived: bytes,
                state: p.pc.connectionState});
    }
    return out;
  };
})();
