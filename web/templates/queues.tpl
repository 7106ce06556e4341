% rebase('base.tpl')
<h1>{{_('Queues and agents')}}</h1>
% if missing:
<p class="notice">{{missing}}</p>
% end
<div class="board" id="board" data-events="/events" data-data="/wallboard.json" data-poll="0" data-refresh-on="queue agent" data-now="{{get('now', 0)}}">
<section aria-labelledby="h-queues">
  <h2 id="h-queues">{{_('Queues')}}</h2>
  <div class="scroll">
  <table class="records" data-block="queues" data-columns="name waiting since ready members" aria-labelledby="h-queues">
    <thead><tr><th scope="col">{{_('Queue')}}</th><th scope="col">{{_('Waiting')}}</th><th scope="col">{{_('Longest wait')}}</th><th scope="col">{{_('Agents free')}}</th><th scope="col">{{_('Agents')}}</th></tr></thead>
    <tbody>
    % for q in queues:
    <tr><td data-label="{{_('Queue')}}">{{q['name']}}</td><td data-label="{{_('Waiting')}}"><span class="badge {{q['waiting_class']}}">{{q['waiting']}}</span></td>
      <td data-label="{{_('Longest wait')}}" data-since="{{'' if q['since'] is None else q['since']}}">{{q['since_text']}}</td>
      <td data-label="{{_('Agents free')}}">{{q['ready']}}</td><td data-label="{{_('Agents')}}">{{q['members']}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  <p class="help" data-empty="queues" {{!'hidden' if queues else ''}}>{{_('No queue yet.')}}</p>
</section>
</div>

<section aria-labelledby="h-agents">
  <h2 id="h-agents">{{_('Agents')}}</h2>
  <div class="scroll">
  <table class="records" aria-labelledby="h-agents">
    <thead><tr><th scope="col">{{_('Ext.')}}</th><th scope="col">{{_('Name')}}</th><th scope="col">{{_('Now')}}</th><th scope="col">{{_('Queues')}}</th><th scope="col">{{_('Change')}}</th></tr></thead>
    <tbody>
    % for a in agents:
    <tr id="agent-{{a['extension']}}"><td data-label="{{_('Ext.')}}">{{a['extension']}}</td><td data-label="{{_('Name')}}">{{a['name']}}</td>
      <td data-label="{{_('Now')}}"><span class="badge {{a['says_class']}}">{{translate_word(t, a['says'])}}</span></td><td data-label="{{_('Queues')}}">{{a['queues']}}</td>
      <td class="actions">
        % for action, label in actions.items():
        % if action == 'login' and a['status'] != 'LOGGED_OUT':
        % continue
        % end
        % if action == 'available' and a['status'] != 'ON_BREAK':
        % continue
        % end
        % if action in ('break', 'logout') and a['status'] == 'LOGGED_OUT':
        % continue
        % end
        <form method="post" action="/agents/{{a['extension']}}/{{action}}" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          % if action == 'break':
          <label for="r-{{a['extension']}}" class="sr-only">{{_('Reason for {extension}', extension=a['extension'])}}</label>
          <select id="r-{{a['extension']}}" name="reason">
            % for r in reasons:
            <option value="{{r}}">{{_(r)}}</option>
            % end
          </select>
          % end
          <button type="submit" aria-label="{{_(label)}}: {{a['extension']}}">{{_(label)}}</button>
        </form>
        % end
      </td></tr>
    % end
    </tbody>
  </table>
  </div>
  % if not agents:
  <p class="help">{{_('No agent yet.')}}</p>
  % end
</section>

% if user.role == 'admin':
<section class="card narrow" aria-labelledby="h-make-agent">
  <h2 id="h-make-agent">{{_('Make an extension an agent')}}</h2>
  % if candidates and queues:
  <form method="post" action="/agents">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="agent-ext">{{_('Extension')}}</label>
    <select id="agent-ext" name="extension">
      % for e in candidates:
      <option value="{{e['number']}}">{{e['number']}} {{e.get('name', '')}}</option>
      % end
    </select>
    <fieldset><legend>{{_('Queues')}}</legend>
      % for q in queues:
      <div class="check"><input type="checkbox" id="aq-{{q['name']}}" name="queues" value="{{q['name']}}" checked><label for="aq-{{q['name']}}">{{q['name']}}</label></div>
      % end
    </fieldset>
    <button type="submit">{{_('Make agent')}}</button>
  </form>
  % else:
  <p class="help">{{_('Every extension is an agent already, or there is no queue yet.')}}</p>
  % end
</section>

<section class="card" aria-labelledby="h-add-queue">
  <h2 id="h-add-queue">{{_('Add a queue')}}</h2>
  <form method="post" action="/queues">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % for more in (False, True):
    % if more:
    <details><summary>{{_('More settings')}}</summary>
    % end
    % for f in fields:
    % if f.main == more:
    % continue
    % end
    % fid = 'q-' + f.name.replace('_', '-')
    % bad = f.name in errors
    <div class="field{{' invalid' if bad else ''}}">
      % if f.kind == 'checkbox':
      <div class="check"><input type="checkbox" id="{{fid}}" name="{{f.name}}" {{!'checked' if f.value else ''}}><label for="{{fid}}">{{_(f.label)}}</label></div>
      % else:
      <label for="{{fid}}">{{_(f.label)}}</label>
      % if f.kind == 'select':
      <select id="{{fid}}" name="{{f.name}}">
        % for c in f.choices:
        <option value="{{c}}" {{!'selected' if c == f.value else ''}}>{{_(c)}}</option>
        % end
      </select>
      % else:
      <input id="{{fid}}" name="{{f.name}}" type="{{f.kind}}" value="{{f.value}}" {{!'step="any" min="0"' if f.kind == 'number' else ''}} {{!'required' if f.required else ''}} aria-describedby="{{fid}}-help">
      % end
      % end
      <p class="help" id="{{fid}}-help">{{_(f.help)}}</p>
      % if bad:
      <p class="field-error" role="alert">{{translate_message(errors[f.name])}}</p>
      % end
    </div>
    % end
    % if more:
    </details>
    % end
    % end
    <button type="submit">{{_('Add queue')}}</button>
  </form>
</section>
% end
