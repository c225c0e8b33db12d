// Seed 003's SessionManager class, copied from the document unchanged except for apiBase
// (the test server's address instead of http://127.0.0.1:8000). Node has fetch; the browser's
// localStorage is provided below.
const store = new Map();
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
};

// sessionManager.js
class SessionManager {
  constructor() {
    this.sessionId = localStorage.getItem('chatSessionId');
    this.apiBase = process.env.API_BASE;
  }

  async initializeSession() {
    // Check for existing session first
    const status = await this.getStatus();
    
    if (!status.has_active_session) {
      // Start new session
      await this.start();
    } else {
      // Use existing session
      this.sessionId = status.session_id;
      localStorage.setItem('chatSessionId', this.sessionId);
    }
  }

  async start() {
    const response = await fetch(`${this.apiBase}/start/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({})
    });
    
    const data = await response.json();
    this.sessionId = data.session_id;
    localStorage.setItem('chatSessionId', this.sessionId);
    return data;
  }

  async update(activityType, additionalData = {}) {
    if (!this.sessionId) return;
    
    const response = await fetch(`${this.apiBase}/update/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        session_id: this.sessionId,
        activity_type: activityType,
        ...additionalData
      })
    });
    
    return response.json();
  }

  async end() {
    if (!this.sessionId) return;
    
    const response = await fetch(`${this.apiBase}/end/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        session_id: this.sessionId
      })
    });
    
    localStorage.removeItem('chatSessionId');
    this.sessionId = null;
    return response.json();
  }

  async getStatus() {
    const response = await fetch(`${this.apiBase}/status/`, {
      method: 'GET',
      headers: { 'Content-Type': 'application/json' }
    });
    
    return response.json();
  }

  async getHistory() {
    const response = await fetch(`${this.apiBase}/history/`, {
      method: 'GET',
      headers: { 'Content-Type': 'application/json' }
    });
    
    return response.json();
  }

  // Event handlers for React components
  onMessageSent() {
    this.update('message_sent');
  }

  onConversationStarted() {
    this.update('conversation_started');
  }

  onResponseReceived(responseTime) {
    this.update('response_received', { response_time: responseTime });
  }
}

// What the document's React usage does, in order, awaited so the report is deterministic.
const sessionManager = new SessionManager();
await sessionManager.initializeSession();
const again = new SessionManager();
await again.initializeSession(); // a second tab resumes the same session
await sessionManager.update('message_sent');
await sessionManager.update('conversation_started');
await sessionManager.update('response_received', { response_time: 0.5 });
const afterUpdates = await sessionManager.update('message_sent');
const status = await sessionManager.getStatus();
const sameSession = again.sessionId === sessionManager.sessionId;
const ended = await sessionManager.end();
const history = await sessionManager.getHistory();
console.log(JSON.stringify({ status, afterUpdates, ended, history, sameSession, storedAfterEnd: localStorage.getItem('chatSessionId') }));
