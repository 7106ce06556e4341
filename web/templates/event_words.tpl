% import json
% # The live events as sentences in the page's language: the dashboard's feed and the wizard's test call
% # (static/app.js, tellEvent). Keys are the event's kind or the code it carries.
% words = {'registration': _('Phone {who} registered.'), 'unregistration': _('Phone {who} went offline.'),
%          'ENTERED': _('A caller ({number}) waits in queue {queue}.'), 'OFFERED': _('Queue {queue} rings agent {agent}.'),
%          'ANSWERED': _('Agent {agent} answered the caller ({number}).'), 'ABANDONED': _('The caller ({number}) hung up while waiting in queue {queue}.'),
%          'TIMEOUT': _('The caller ({number}) waited too long in queue {queue}.'), 'MISSED_OFFER': _('Agent {agent} did not answer.'),
%          'call_record': _('Call from {caller} to {callee}: {outcome}.'), 'agent': _('Agent {agent}: {says}.'),
%          'ANSWERED_call': _('answered'), 'NO ANSWER': _('not answered'), 'BUSY': _('busy'), 'FAILED': _('failed'), 'CANCELLED': _('the caller hung up first'),
%          'AVAILABLE': _('available'), 'TALKING': _('talking'), 'OFFERED_agent': _('ringing'), 'WRAP_UP': _('wrap-up'), 'ON_BREAK': _('on break'),
%          'LOGGED_OUT': _('logged out'), 'NO_PHONE': _('no phone'),
%          'ban': _('{ip} is banned: {reason}.'), 'unban': _('{ip} may register again.'),
%          'extension_created': _('Extension {number} was added.'), 'extension_changed': _('Extension {number} was changed.'),
%          'extension_deleted': _('Extension {number} was deleted.'), 'flows': _('The call flows were saved (version {version}).'),
%          'connected': connected, 'lost': _('Disconnected; retrying…')}
<script type="application/json" id="{{element_id}}">{{!json.dumps(words, ensure_ascii=False).replace('</', '<\\/')}}</script>
