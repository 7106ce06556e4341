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
<section class="card screen-pop" id="screen-pop" aria-labelledby="pop-title" {{!'' if call else 'hidden'}}>
  <h2 id="pop-title"><span id="pop-state">{{_('Ringing') if call and call['state'] == 'OFFERED' else _('On a call')}}</span></h2>
  <p class="big" id="pop-number">{{call['number'] if call else ''}}</p>
  <p>{{_('Queue')}} <strong id="pop-queue">{{call['queue'] if call else ''}}</strong></p>
  <p class="help">{{_('Call')}} <span id="pop-call">{{call['call_id'] if call else ''}}</span>{{_(". The caller's contact card will show here.")}}</p>
</section>
<p class="sr-only" id="pop-announce" aria-live="assertive"></p>
<p class="help" id="agent-status">{{_('Shown as of page load.')}}</p>
% end
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
