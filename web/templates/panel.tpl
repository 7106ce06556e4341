% rebase('base.tpl')
% agent = get('agent')
% call = get('call')
<h1>{{_('My panel')}}</h1>
<p>{{_('Logged in as')}} <strong>{{user.username}}</strong> {{_('with the role')}} <strong>{{_(user.role)}}</strong>.</p>
% if user.role == 'agent':
% if get('center_missing'):
<p class="notice">{{_('This core does not offer queues and agents yet; update the core to take queue calls here.')}}</p>
% elif not agent:
<p class="notice">{{_("Extension {username} is not an agent. An agent's username is their extension number; ask an admin to make it an agent on the Queues page.", username=user.username)}}</p>
% else:
<section class="card agent" id="agent" aria-labelledby="me-title" data-agent-events="/agent/events" data-extension="{{agent['extension']}}">
  <h2 id="me-title">{{_('Agent {extension} {name}', extension=agent['extension'], name=agent['name'])}}</h2>
  <p class="big"><span class="badge {{agent['says_class']}}" id="agent-says" aria-live="polite">{{translate_word(t, agent['says'])}}</span></p>
  <p class="help">{{_('Queues: {queues}', queues=agent['queues'] or _('none'))}}</p>
  <div class="actions">
    % for action, label in actions.items():
    % if (action == 'login' and agent['status'] == 'LOGGED_OUT') or (action == 'available' and agent['status'] == 'ON_BREAK') or (action in ('break', 'logout') and agent['status'] != 'LOGGED_OUT'):
    <form method="post" action="/agent/status" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <input type="hidden" name="action" value="{{action}}">
      % if action == 'break':
      <label for="break-reason">{{_('Reason')}}</label>
      <select id="break-reason" name="reason">
        % for r in reasons:
        <option value="{{r}}">{{_(r)}}</option>
        % end
      </select>
      % end
      <button type="submit">{{_(label)}}</button>
    </form>
    % end
    % end
  </div>
</section>
% # The phone in this browser (phone_card.tpl, static/phone.js).
% include('phone_card.tpl', extension=agent['extension'])
% include('campaign_card.tpl', card=get('card'))
<script src="/static/campaign_card.js" defer></script>
<section class="card screen-pop" id="screen-pop" aria-labelledby="pop-title" {{!'' if call else 'hidden'}}>
  <h2 id="pop-title"><span id="pop-state">{{_('Ringing') if call and call['state'] == 'OFFERED' else _('On a call')}}</span></h2>
  <p class="big" id="pop-number">{{call['number'] if call else ''}}</p>
  <p>{{_('Queue')}} <strong id="pop-queue">{{call['queue'] if call else ''}}</strong></p>
  <p class="help">{{_('Call')}} <span id="pop-call">{{call['call_id'] if call else ''}}</span></p>
  % pop = get('pop') or {}
  % contact = pop.get('contact')
  <div class="contact-card" id="pop-contact" {{!'' if contact else 'hidden'}}>
    <h3 id="pop-contact-name">{{contact['name'] if contact else ''}}</h3>
    <dl>
      <dt>{{_('Company')}}</dt><dd id="pop-contact-company">{{contact['company'] if contact else ''}}</dd>
      <dt>{{_('Email')}}</dt><dd id="pop-contact-email">{{contact['email'] if contact else ''}}</dd>
      <dt>{{_('Notes')}}</dt><dd id="pop-contact-notes">{{contact['notes'] if contact else ''}}</dd>
    </dl>
  </div>
  <p id="pop-no-contact" {{!'hidden' if contact or not call else ''}}>{{_('No contact has this number.')}} <a href="/contacts">{{_('Contacts')}}</a></p>
  <h3>{{_('Last calls from this number')}}</h3>
  <table class="records" id="pop-history">
    <thead><tr><th scope="col">{{_('Started')}}</th><th scope="col">{{_('Agent')}}</th><th scope="col">{{_('Result')}}</th><th scope="col">{{_('Disposition')}}</th><th scope="col">{{_('Notes')}}</th></tr></thead>
    <tbody>
    % for h in pop.get('history', []):
    <tr><td data-label="{{_('Started')}}">{{h['start']}}</td><td data-label="{{_('Agent')}}">{{h['agent']}}</td><td data-label="{{_('Result')}}">{{translate_word(t, h['disposition'])}}</td><td data-label="{{_('Disposition')}}">{{h['disposition_code']}}</td><td data-label="{{_('Notes')}}">{{h['notes']}}</td></tr>
    % end
    </tbody>
  </table>
</section>
% after = get('after')
<section class="card" id="after-call" aria-labelledby="after-title" {{!'' if after else 'hidden'}}>
  <h2 id="after-title">{{_('After-call notes')}}</h2>
  <p>{{_('Call')}} <span id="after-call-id">{{after['call_id'] if after else ''}}</span> — <span id="after-number">{{after['number'] if after else ''}}</span></p>
  <form method="post" action="/agent/calls/{{after['call_id'] if after else 'none'}}/notes" id="after-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="next" value="/agent">
    <label for="after-notes">{{_('Notes')}}</label>
    <textarea id="after-notes" name="notes" rows="3" maxlength="2000"></textarea>
    <label for="after-disposition">{{_('Disposition')}}</label>
    <input id="after-disposition" name="disposition_code" list="dispositions" maxlength="40">
    <datalist id="dispositions">
      % for code in dispositions:
      <option value="{{code}}">{{_(code)}}</option>
      % end
    </datalist>
    <button type="submit">{{_('Save notes')}}</button>
  </form>
</section>
<p class="sr-only" id="pop-announce" aria-live="assertive"></p>
<p class="help" id="agent-status">{{_('Shown as of page load.')}}</p>
% end
% end
% if user.username.isdigit():
<section class="card narrow" id="dial" aria-labelledby="dial-title">
  <h2 id="dial-title">{{_('Call a number')}}</h2>
  <form method="post" action="/dial">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="next" value="{{path}}">
    <label for="dial-to">{{_('Number to call')}}</label>
    <input id="dial-to" name="to" type="tel" required maxlength="40" aria-describedby="dial-help">
    <p class="help" id="dial-help">{{_('Your phone (extension {extension}) rings first; when you pick it up, the number is called.', extension=user.username)}}</p>
    <button type="submit">{{_('Call')}}</button>
  </form>
</section>
% end
<section class="card narrow" aria-labelledby="pw-title">
  <h2 id="pw-title">{{_('Change my password')}}</h2>
  <form method="post" action="/account/password">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="current">{{_('Current password')}}</label>
    <input id="current" name="current" type="password" required autocomplete="current-password">
    <label for="password">{{_('New password')}}</label>
    <input id="password" name="password" type="password" required minlength="10" autocomplete="new-password">
    <label for="password2">{{_('New password again')}}</label>
    <input id="password2" name="password2" type="password" required minlength="10" autocomplete="new-password">
    <button type="submit">{{_('Change password')}}</button>
  </form>
</section>
