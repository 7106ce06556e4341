% rebase('base.tpl')
% def err(key):
%   if errors.get(key):
<p class="field-error" id="f-{{key}}-error" role="alert">{{errors[key]}}</p>
%   end
% end
% def described(key):
%   return ' aria-invalid="true" aria-describedby="f-%s-error"' % key if errors.get(key) else ''
% end
<h1>{{title}}</h1>
<form method="post" action="{{'/campaigns/new' if new else '/campaigns/%s/edit' % form['id']}}" class="card" id="campaign-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <fieldset>
    <legend>{{_('The campaign')}}</legend>
    % if new:
    <label for="f-id">{{_('Id')}}</label>
    <input id="f-id" name="id" value="{{form['id']}}" required maxlength="32" pattern="[a-z0-9][a-z0-9_-]*" aria-describedby="f-id-help"{{!described('id')}}>
    <p class="help" id="f-id-help">{{_('Lower-case letters, digits, - or _; it names the campaign in call records and reports.')}}</p>
    % err('id')
    % else:
    <p>{{_('Id')}}: <strong>{{form['id']}}</strong></p>
    % end
    <label for="f-name">{{_('Name')}}</label>
    <input id="f-name" name="name" value="{{form['name']}}" required maxlength="80"{{!described('name')}}>
    % err('name')
    <label for="f-mode">{{_('Mode')}}</label>
    <select id="f-mode" name="mode" aria-describedby="f-mode-help"{{!described('mode')}}>
      % for m in modes:
      <option value="{{m}}" {{!'selected' if form['mode'] == m else ''}}>{{_(m)}}</option>
      % end
    </select>
    <p class="help" id="f-mode-help">{{_('Preview: the agent sees the card and dials. Progressive: the box dials for each free agent. Message: the box plays a prompt, nobody talks.')}}</p>
    % err('mode')
    <label for="f-queue">{{_('Queue whose agents work it')}}</label>
    <select id="f-queue" name="queue"{{!described('queue')}}>
      <option value="">{{_('none (message campaigns)')}}</option>
      % for q in queues:
      <option value="{{q}}" {{!'selected' if form['queue'] == q else ''}}>{{q}}</option>
      % end
    </select>
    % err('queue')
    <label for="f-priority">{{_('Priority (1–9, higher first)')}}</label>
    <input id="f-priority" name="priority" type="number" min="1" max="9" value="{{form['priority']}}"{{!described('priority')}}>
    % err('priority')
  </fieldset>
  <fieldset>
    <legend>{{_('Calls')}}</legend>
    <label for="f-caller_id">{{_('Caller ID (the number callees see; empty: the line’s own)')}}</label>
    <input id="f-caller_id" name="caller_id" type="tel" value="{{form['caller_id']}}" maxlength="21"{{!described('caller_id')}}>
    % err('caller_id')
    <label for="f-route">{{_('Route')}}</label>
    <select id="f-route" name="route">
      <option value="">{{_('the numbering plan')}}</option>
      % for r in routes:
      <option value="{{r}}" {{!'selected' if form['route'] == r else ''}}>{{r}}</option>
      % end
    </select>
    <label for="f-max_lines">{{_('Calls at once (message campaigns)')}}</label>
    <input id="f-max_lines" name="max_lines" type="number" min="1" max="64" value="{{form['max_lines']}}"{{!described('max_lines')}}>
    % err('max_lines')
    <label for="f-ring_timeout_s">{{_('Ring for (seconds)')}}</label>
    <input id="f-ring_timeout_s" name="ring_timeout_s" type="number" min="5" max="120" value="{{form['ring_timeout_s']}}"{{!described('ring_timeout_s')}}>
    % err('ring_timeout_s')
    <label for="f-max_attempts">{{_('Attempts per person in all')}}</label>
    <input id="f-max_attempts" name="max_attempts" type="number" min="1" max="20" value="{{form['max_attempts']}}"{{!described('max_attempts')}}>
    % err('max_attempts')
    <table class="records" id="retries" aria-describedby="retries-help">
      <caption>{{_('Retries by result')}}</caption>
      <thead><tr><th scope="col">{{_('Result')}}</th><th scope="col">{{_('Try again after (minutes)')}}</th><th scope="col">{{_('Times')}}</th></tr></thead>
      <tbody>
      % for r in retry_results:
      <tr><th scope="row">{{_(r)}}</th>
        <td><input name="retry-{{r}}-delay" type="number" min="1" step="any" value="{{form.get('retry-%s-delay' % r, '')}}" aria-label="{{_('Try again after (minutes)')}}: {{_(r)}}"></td>
        <td><input name="retry-{{r}}-times" type="number" min="0" max="10" value="{{form.get('retry-%s-times' % r, '')}}" aria-label="{{_('Times')}}: {{_(r)}}"></td></tr>
      % end
      </tbody>
    </table>
    <p class="help" id="retries-help">{{_('An attempt that does not reach the person is tried again after the delay, at most the given times; never more than the attempts in all.')}}</p>
    % err('retries')
  </fieldset>
  <fieldset>
    <legend>{{_('Calling hours')}}</legend>
    <label for="f-country">{{_('Country whose default hours apply')}}</label>
    <select id="f-country" name="country">
      % for c in countries:
      <option value="{{c}}" {{!'selected' if form['country'] == c else ''}}>{{_('Poland: Mon–Fri 08:00–20:00, Sat 10:00–14:00') if c == 'PL' else _('European Union: Mon–Fri 10:00–13:00, 14:00–20:00') if c == 'EU' else _('China: every day 09:00–12:00, 14:00–20:00')}}</option>
      % end
    </select>
    <label for="f-zone">{{_('Time zone of callees whose row names none')}}</label>
    <select id="f-zone" name="zone"{{!described('zone')}}>
      % for z, label in zones:
      <option value="{{z}}" {{!'selected' if form['zone'] == z else ''}}>{{label}}</option>
      % end
    </select>
    % err('zone')
    <label for="f-hours">{{_('Own calling hours (empty: the country’s)')}}</label>
    <textarea id="f-hours" name="hours" rows="4" aria-describedby="f-hours-help"{{!described('hours')}}>{{form['hours']}}</textarea>
    <p class="help" id="f-hours-help">{{_('One day a line, in the callee’s time: mon 09:00-13:00 14:00-20:00. Days: {days}.', days=' '.join(days))}}</p>
    % err('hours')
  </fieldset>
  <fieldset>
    <legend>{{_('What agents see and press')}}</legend>
    <label for="f-dispositions">{{_('Result buttons (one a line)')}}</label>
    <textarea id="f-dispositions" name="dispositions" rows="5"{{!described('dispositions')}}>{{form['dispositions']}}</textarea>
    % err('dispositions')
    <label for="f-script">{{_('Script')}}</label>
    <textarea id="f-script" name="script" rows="6" maxlength="4000" aria-describedby="f-script-help">{{form['script']}}</textarea>
    <p class="help" id="f-script-help">{{_('What the agent reads. {name}, {number} and the list’s columns, e.g. {Order}, are filled in from the person’s row.')}}</p>
    <input type="checkbox" id="f-survey" name="survey" {{!'checked' if form['survey'] else ''}}>
    <label for="f-survey" class="inline">{{_('Ask for a 1–5 rating after the agent hangs up')}}</label>
  </fieldset>
  <fieldset>
    <legend>{{_('Message campaigns')}}</legend>
    <label for="f-message">{{_('Prompt played')}}</label>
    <select id="f-message" name="message"{{!described('message')}}>
      <option value="">{{_('none')}}</option>
      % for p in prompts:
      <option value="{{p}}" {{!'selected' if form['message'] == p else ''}}>{{p}}</option>
      % end
    </select>
    % err('message')
    <input type="checkbox" id="f-collect_digit" name="collect_digit" {{!'checked' if form['collect_digit'] else ''}}>
    <label for="f-collect_digit" class="inline">{{_('Collect one digit (a confirmation or a survey answer); 9 always means “never call me again”')}}</label>
  </fieldset>
  <button type="submit">{{_('Save campaign')}}</button>
  <a href="/campaigns">{{_('Cancel')}}</a>
</form>
% if not new:
<form method="post" action="/campaigns/{{form['id']}}/delete" class="card narrow" data-confirm="{{_('Delete campaign {name} and its call list?', name=form['name'])}}">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <button type="submit" class="danger">{{_('Delete campaign')}}</button>
</form>
% end
