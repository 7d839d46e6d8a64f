/* Rapport chat widget: <rapport-chat write-key="wk_..."> on any page, no dependencies.
   Optional: user-id + user-hash (HMAC the shop's server computed), lang, server. */
(() => {
  "use strict";
  const SCRIPT = document.currentScript && document.currentScript.src;
  const STRINGS = {
    en: {
      open: "Chat with us", close: "Close chat", title: "Chat", online: "We're online",
      offline: "No one is online right now. Leave your email and we'll reply there.",
      email: "Your email", saveEmail: "Send", emailSaved: "Thanks, we'll reply by email.",
      message: "Your message", send: "Send", you: "You", agent: "Support",
      typing: "Support is typing…", sending: "Sending…", seen: "Seen", failed: "Not sent",
      reconnecting: "Reconnecting…", empty: "Ask us anything.",
      surveySend: "Send feedback", thanks: "Thank you for your feedback!", quick: "Quick replies",
    },
    fr: {
      open: "Discuter avec nous", close: "Fermer", title: "Discussion", online: "Nous sommes en ligne",
      offline: "Personne n'est en ligne. Laissez votre e-mail, nous vous répondrons.",
      email: "Votre e-mail", saveEmail: "Envoyer", emailSaved: "Merci, nous répondrons par e-mail.",
      message: "Votre message", send: "Envoyer", you: "Vous", agent: "Support",
      typing: "Le support écrit…", sending: "Envoi…", seen: "Vu", failed: "Non envoyé",
      reconnecting: "Reconnexion…", empty: "Posez-nous vos questions.",
      surveySend: "Envoyer l'avis", thanks: "Merci pour votre avis !", quick: "Réponses rapides",
    },
    de: {
      open: "Chat starten", close: "Chat schließen", title: "Chat", online: "Wir sind online",
      offline: "Gerade ist niemand online. Hinterlassen Sie Ihre E-Mail, wir antworten dort.",
      email: "Ihre E-Mail", saveEmail: "Senden", emailSaved: "Danke, wir antworten per E-Mail.",
      message: "Ihre Nachricht", send: "Senden", you: "Sie", agent: "Support",
      typing: "Support schreibt…", sending: "Wird gesendet…", seen: "Gesehen",
      failed: "Nicht gesendet", reconnecting: "Verbindung wird hergestellt…",
      empty: "Fragen Sie uns.", surveySend: "Feedback senden", thanks: "Danke für Ihr Feedback!",
      quick: "Schnellantworten",
    },
    es: {
      open: "Chatea con nosotros", close: "Cerrar el chat", title: "Chat", online: "Estamos en línea",
      offline: "Ahora no hay nadie en línea. Déjenos su correo y le responderemos allí.",
      email: "Su correo", saveEmail: "Enviar", emailSaved: "Gracias, le responderemos por correo.",
      message: "Su mensaje", send: "Enviar", you: "Usted", agent: "Soporte",
      typing: "Soporte está escribiendo…", sending: "Enviando…", seen: "Visto",
      failed: "No enviado", reconnecting: "Reconectando…", empty: "Pregúntenos lo que quiera.",
      surveySend: "Enviar opinión", thanks: "¡Gracias por su opinión!", quick: "Respuestas rápidas",
    },
  };
  const CSS = `
:host { all: initial; position: fixed; right: 16px; bottom: 16px; z-index: 2147483000;
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; }
button, input, textarea { font: inherit; }
.launcher { border: 0; border-radius: 999px; padding: 12px 18px; background: #1d4ed8;
  color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.2); }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px; }
.panel { position: fixed; right: 16px; bottom: 16px; width: min(380px, calc(100vw - 32px));
  height: min(560px, calc(100vh - 32px)); display: flex; flex-direction: column;
  background: #fff; border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.25); overflow: hidden; }
.panel[hidden], .launcher[hidden], [hidden] { display: none; }
header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: #1d4ed8; color: #fff; }
header > div { flex: 1; }
header h2 { font-size: 16px; margin: 0; }
header p { margin: 0; font-size: 13px; opacity: .9; }
.x { background: transparent; color: #fff; border: 0; font-size: 22px; cursor: pointer;
  min-width: 44px; min-height: 44px; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 80%; padding: 8px 12px; border-radius: 12px; background: #eef2f7;
  white-space: pre-wrap; overflow-wrap: anywhere; align-self: flex-start; }
.msg.mine { align-self: flex-end; background: #1d4ed8; color: #fff; }
.msg a { color: inherit; text-decoration: underline; }
.quick { display: flex; flex-wrap: wrap; gap: 8px; align-self: flex-start; }
.quick button { min-height: 44px; min-width: 64px; padding: 0 16px; border: 1px solid #1d4ed8;
  border-radius: 999px; background: #fff; color: #1d4ed8; cursor: pointer; }
.meta { font-size: 12px; color: #52606d; align-self: flex-end; }
.note { font-size: 13px; color: #52606d; padding: 0 12px 8px; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e4e7eb; }
textarea, input { flex: 1; min-width: 0; border: 1px solid #9aa5b1; border-radius: 8px; padding: 8px; }
textarea { resize: none; height: 44px; }
form button { border: 0; border-radius: 8px; padding: 0 14px; background: #1d4ed8; color: #fff;
  cursor: pointer; min-height: 44px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.survey { display: block; margin: 0; padding: 10px 12px; border-top: 1px solid #e4e7eb; }
.survey fieldset { border: 0; margin: 0 0 8px; padding: 0; min-width: 0; }
.survey legend { padding: 0; margin-bottom: 6px; font-weight: 600; }
.scale { display: flex; flex-wrap: wrap; gap: 4px; }
.scale label { flex: 1 0 36px; position: relative; }
.scale input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.scale span { display: block; text-align: center; min-height: 44px; line-height: 44px;
  border: 1px solid #9aa5b1; border-radius: 8px; cursor: pointer; }
.scale input:checked + span { background: #1d4ed8; color: #fff; border-color: #1d4ed8; }
.scale input:focus-visible + span { outline: 3px solid #f59e0b; outline-offset: 2px; }
.open { display: block; margin-bottom: 8px; }
.open span { display: block; font-weight: 600; margin-bottom: 6px; }
.survey textarea { width: 100%; box-sizing: border-box; height: 64px; }
.survey button { border: 0; border-radius: 8px; padding: 0 14px; background: #1d4ed8; color: #fff;
  cursor: pointer; min-height: 44px; width: 100%; }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100%; border-radius: 0; }
}`;
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child);
    return node;
  };
  // A message's text with its web addresses as links (text nodes and anchors only: nothing
  // a message says is ever read as HTML).
  const LINK = /\bhttps?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'"]/g;
  const fill = (node, text) => {
    node.textContent = "";
    let start = 0;
    for (const found of text.matchAll(LINK)) {
      node.append(text.slice(start, found.index));
      const link = el("a", { href: found[0], textContent: found[0], target: "_blank" });
      link.rel = "noopener noreferrer nofollow ugc";
      node.append(link);
      start = found.index + found[0].length;
    }
    node.append(text.slice(start));
  };
  const SCALES = { nps: [0, 10], csat: [1, 5], ces: [1, 7], rating: [1, 5] };
  const newId = () =>
    (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2))
      .replace(/[^A-Za-z0-9_-]/g, "");

  class RapportChat extends HTMLElement {
    constructor() {
      super();
      this.strings = {};
      this.shown = new Map(); // message id -> seq
      this.lastSeq = 0;
      this.pending = new Map(); // client id -> element
      this.retry = 0;
      this.typingSent = 0;
    }

    t(key) {
      const lang = (this.getAttribute("lang") || document.documentElement.lang || "en").slice(0, 2);
      return this.strings[key] || (STRINGS[lang] || STRINGS.en)[key] || STRINGS.en[key];
    }

    connectedCallback() {
      if (this.root) return;
      this.key = this.getAttribute("write-key") || "";
      this.storeKey = "rapport-chat:" + this.key + ":" + (this.getAttribute("user-id") || "");
      this.state = this.load();
      this.root = this.attachShadow({ mode: "open" });
      if (this.root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
        const sheet = new CSSStyleSheet(); // adopted sheets are not inline styles: strict CSPs allow them
        sheet.replaceSync(CSS);
        this.root.adoptedStyleSheets = [sheet];
      } else {
        this.root.append(el("style", { textContent: CSS }));
      }
      this.build();
      this.connect();
    }

    disconnectedCallback() {
      this.closed = true;
      if (this.socket) this.socket.close();
    }

    load() {
      try {
        const saved = JSON.parse(localStorage.getItem(this.storeKey) || "{}");
        return { token: saved.token || null, outbox: Array.isArray(saved.outbox) ? saved.outbox : [] };
      } catch (_) {
        return { token: null, outbox: [] };
      }
    }

    save() {
      try {
        localStorage.setItem(this.storeKey, JSON.stringify(this.state));
      } catch (_) { /* private mode: the session lasts as long as the page */ }
    }

    build() {
      const t = (k) => this.t(k);
      this.launcher = el("button", { type: "button", className: "launcher", textContent: t("open") });
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.setAttribute("aria-controls", "rapport-panel");
      this.status = el("p", { textContent: t("reconnecting") });
      const close = el("button", { type: "button", className: "x", textContent: "×" });
      close.setAttribute("aria-label", t("close"));
      this.log = el("div", { className: "log" });
      this.log.setAttribute("role", "log");
      this.log.setAttribute("aria-live", "polite");
      this.empty = el("p", { className: "note", textContent: t("empty") });
      this.typing = el("p", { className: "note", textContent: t("typing"), hidden: true });
      this.offline = el("p", { className: "note", textContent: t("offline"), hidden: true });
      this.email = el("input", { type: "email", id: "rapport-email", required: true, autocomplete: "email" });
      this.emailForm = el("form", { hidden: true },
        el("label", { className: "sr", htmlFor: "rapport-email", textContent: t("email") }), this.email,
        el("button", { type: "submit", textContent: t("saveEmail") }));
      this.email.setAttribute("placeholder", t("email"));
      this.input = el("textarea", { id: "rapport-message", rows: 1, maxLength: 10000 });
      this.input.setAttribute("placeholder", t("message"));
      const form = el("form", {},
        el("label", { className: "sr", htmlFor: "rapport-message", textContent: t("message") }), this.input,
        el("button", { type: "submit", textContent: t("send") }));
      const title = el("h2", { id: "rapport-title", textContent: t("title") });
      this.panel = el("section", { className: "panel", id: "rapport-panel", hidden: true },
        el("header", {}, el("div", {}, title, this.status), close),
        this.log, this.typing, this.offline, this.emailForm, form);
      this.surveySlot = el("div", {});
      form.before(this.surveySlot);
      this.panel.setAttribute("role", "dialog");
      this.panel.setAttribute("aria-labelledby", "rapport-title");
      this.log.append(this.empty);
      this.root.append(this.launcher, this.panel);
      this.launcher.addEventListener("click", () => this.toggle(true));
      close.addEventListener("click", () => this.toggle(false));
      this.panel.addEventListener("keydown", (e) => { if (e.key === "Escape") this.toggle(false); });
      form.addEventListener("submit", (e) => { e.preventDefault(); this.submit(); });
      this.input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this.submit(); }
      });
      this.input.addEventListener("input", () => this.sendTyping());
      this.emailForm.addEventListener("submit", (e) => {
        e.preventDefault();
        this.frame({ type: "email", email: this.email.value.trim() });
      });
    }

    toggle(open) {
      this.panel.hidden = !open;
      this.launcher.hidden = open;
      this.launcher.setAttribute("aria-expanded", String(open));
      if (open) this.log.scrollTop = this.log.scrollHeight; // the latest message, not the first
      (open ? this.input : this.launcher).focus();
      if (open) this.markRead();
    }

    server() {
      const base = this.getAttribute("server") || (SCRIPT ? new URL(SCRIPT).origin : location.origin);
      return base.replace(/^http/, "ws") + "/widget/ws";
    }

    connect() {
      if (this.closed) return;
      const socket = new WebSocket(this.server());
      this.socket = socket;
      this.ready = false;
      socket.addEventListener("open", () => {
        socket.send(JSON.stringify({
          type: "hello", write_key: this.key, visitor_token: this.state.token,
          user_id: this.getAttribute("user-id") || null, user_hash: this.getAttribute("user-hash") || null,
          conversation_id: this.conversationId || null, after: this.lastSeq,
        }));
      });
      socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
      socket.addEventListener("close", (event) => {
        this.ready = false;
        this.status.textContent = this.t("reconnecting");
        const pause = event.code === 4429 ? 30000 : Math.min(30000, 1000 * 2 ** this.retry++);
        setTimeout(() => this.connect(), pause / 2 + Math.random() * pause / 2);
      });
    }

    frame(data) {
      if (this.ready && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(data));
    }

    receive(data) {
      const handlers = {
        ready: () => this.onReady(data),
        message: () => this.show(data.message),
        ack: () => this.onAck(data),
        typing: () => this.showTyping(),
        read: () => this.markSeen(data.seq),
        survey: () => this.loadSurvey(),
        "email.saved": () => { this.emailForm.hidden = true; this.offline.textContent = this.t("emailSaved"); },
        error: () => this.onError(data),
      };
      if (handlers[data.type]) handlers[data.type]();
    }

    onReady(data) {
      this.ready = true;
      this.retry = 0;
      this.state.token = data.visitor_token;
      this.save();
      if (data.conversation_id !== this.conversationId) { this.lastSeq = 0; this.survey = null; this.surveySlot.replaceChildren(); }
      this.conversationId = data.conversation_id;
      this.status.textContent = data.agents_online ? this.t("online") : "";
      this.offline.hidden = data.agents_online;
      this.offline.textContent = this.t(data.email_left ? "emailSaved" : "offline");
      this.emailForm.hidden = data.agents_online || data.email_left;
      this.agentRead = data.agent_read_seq;
      for (const item of this.state.outbox) this.frame(Object.assign({ type: "message" }, item));
      this.loadSurvey();
    }

    api(path, init) {
      const base = this.getAttribute("server") || (SCRIPT ? new URL(SCRIPT).origin : location.origin);
      const headers = { authorization: "Bearer " + this.state.token, "content-type": "application/json" };
      return fetch(base + path, Object.assign({ headers }, init));
    }

    async loadSurvey() {
      if (!this.conversationId || !this.state.token || this.survey) return;
      const reply = await this.api("/widget/survey?conversation_id=" + this.conversationId).catch(() => null);
      if (!reply || reply.status !== 200 || this.survey) return;
      this.showSurvey(await reply.json());
    }

    showSurvey(data) {
      const form = el("form", { className: "survey" });
      form.setAttribute("aria-label", data.questions[0] ? data.questions[0].text : "Survey");
      for (const q of data.questions) form.append(this.question(q));
      const status = el("p", { className: "note" });
      status.setAttribute("role", "status");
      form.append(el("button", { type: "submit", textContent: this.t("surveySend") }), status);
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const answers = {};
        for (const [name, value] of new FormData(form)) if (String(value).trim()) (answers[name] = answers[name] || []).push(String(value));
        const reply = await this.api("/widget/survey", {
          method: "POST", body: JSON.stringify({ conversation_id: data.conversation_id, answers }),
        }).catch(() => null);
        const body = reply ? await reply.json().catch(() => ({})) : {};
        if (reply && (reply.ok || reply.status === 410)) form.replaceChildren(el("p", { className: "note", textContent: this.t("thanks") }));
        else status.textContent = body.detail || this.t("failed");
      });
      this.survey = form;
      this.surveySlot.replaceChildren(form);
    }

    question(q) {
      const name = "q_" + q.id;
      if (q.type === "open_text") {
        return el("label", { className: "open" }, el("span", { textContent: q.text }),
          el("textarea", { name, maxLength: 2000, required: q.required }));
      }
      const box = el("fieldset", {}, el("legend", { textContent: q.text }));
      const range = SCALES[q.type];
      const values = range ? Array.from({ length: range[1] - range[0] + 1 }, (_, i) => String(range[0] + i)) : q.choices;
      const scale = el("div", { className: "scale" });
      const follow = el("textarea", { name: "f_" + q.id, maxLength: 2000, hidden: true });
      for (const value of values) {
        const input = el("input", { type: q.type === "multiple_choice" ? "checkbox" : "radio", name, value, required: q.required && q.type !== "multiple_choice" });
        if (range) input.setAttribute("aria-label", value + " / " + range[1]);
        input.addEventListener("change", () => {
          const up = (q.follow_ups || []).find((f) => f.min_score <= +value && +value <= f.max_score);
          follow.hidden = !up;
          if (up) { follow.setAttribute("aria-label", up.text); follow.placeholder = up.text; }
        });
        scale.append(el("label", {}, input, el("span", { textContent: range && q.type !== "nps" ? value + " ★" : value })));
      }
      box.append(scale, follow);
      return box;
    }

    submit(text) {
      const body = (text || this.input.value).trim();
      if (!body) return;
      const item = { client_id: newId(), body };
      this.state.outbox.push(item);
      this.save();
      if (!text) this.input.value = "";
      this.dropQuick();
      this.bubble(item.body, true, item.client_id);
      this.frame(Object.assign({ type: "message" }, item));
    }

    bubble(text, mine, clientId) {
      this.empty.hidden = true;
      const node = el("div", { className: mine ? "msg mine" : "msg" });
      fill(node, text);
      const meta = el("div", { className: "meta", textContent: clientId ? this.t("sending") : "" });
      this.log.append(node);
      if (mine) this.log.append(meta);
      if (clientId) this.pending.set(clientId, meta);
      this.log.scrollTop = this.log.scrollHeight;
      return meta;
    }

    show(message) {
      if (this.shown.has(message.id)) return;
      this.shown.set(message.id, message.seq);
      this.lastSeq = Math.max(this.lastSeq, message.seq);
      this.conversationId = message.conversation_id;
      const mine = message.author_type === "customer";
      this.dropQuick();
      const waiting = message.client_id && this.pending.get(message.client_id);
      if (waiting) {
        // The bubble sent shows what was stored: a card number masked, as agents see it.
        const sent = waiting.previousElementSibling;
        if (sent && sent.textContent !== message.body) fill(sent, message.body);
        waiting.textContent = "";
        waiting.dataset.seq = message.seq;
        this.pending.delete(message.client_id);
        this.dropFromOutbox(message.client_id);
      } else {
        const meta = this.bubble(message.body, mine, null);
        if (mine) meta.dataset.seq = message.seq;
      }
      if (!mine) { this.typing.hidden = true; this.markSeen(message.seq - 1); }
      if (!mine && (message.quick_replies || []).length) this.offer(message.quick_replies);
      this.markSeen(this.agentRead || 0);
      if (!this.panel.hidden) this.markRead();
    }

    // Buttons under a question (Yes / No): a tap sends the same words a customer could type.
    offer(replies) {
      this.quick = el("div", { className: "quick" });
      this.quick.setAttribute("role", "group");
      this.quick.setAttribute("aria-label", this.t("quick"));
      for (const reply of replies) {
        const button = el("button", { type: "button", textContent: reply.label });
        button.addEventListener("click", () => { this.submit(reply.text); this.input.focus(); });
        this.quick.append(button);
      }
      this.log.append(this.quick);
      this.log.scrollTop = this.log.scrollHeight;
    }

    dropQuick() {
      if (this.quick) { this.quick.remove(); this.quick = null; }
    }

    onAck(data) {
      this.dropFromOutbox(data.client_id);
      const meta = this.pending.get(data.client_id);
      if (meta) { meta.textContent = ""; meta.dataset.seq = data.seq; this.pending.delete(data.client_id); }
    }

    onError(data) {
      if (!data.client_id) return;
      if (data.status === 429) {
        setTimeout(() => {
          const item = this.state.outbox.find((i) => i.client_id === data.client_id);
          if (item) this.frame(Object.assign({ type: "message" }, item));
        }, (data.retry_after || 5) * 1000);
        return;
      }
      this.dropFromOutbox(data.client_id);
      const meta = this.pending.get(data.client_id);
      if (meta) meta.textContent = this.t("failed");
    }

    dropFromOutbox(clientId) {
      this.state.outbox = this.state.outbox.filter((item) => item.client_id !== clientId);
      this.save();
    }

    sendTyping() {
      const now = Date.now();
      if (now - this.typingSent > 3000) { this.typingSent = now; this.frame({ type: "typing" }); }
    }

    showTyping() {
      this.typing.hidden = false;
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => { this.typing.hidden = true; }, 6000);
    }

    markSeen(seq) {
      this.agentRead = Math.max(this.agentRead || 0, seq || 0);
      for (const meta of this.root.querySelectorAll(".meta[data-seq]")) {
        if (Number(meta.dataset.seq) <= this.agentRead && !this.pending.has(meta)) meta.textContent = this.t("seen");
      }
    }

    markRead() {
      if (this.conversationId && this.lastSeq > (this.readSent || 0)) {
        this.readSent = this.lastSeq;
        this.frame({ type: "read", conversation_id: this.conversationId, seq: this.lastSeq });
      }
    }
  }

  if (!customElements.get("rapport-chat")) customElements.define("rapport-chat", RapportChat);
})();
