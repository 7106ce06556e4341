% card = get('card')
<section class="card campaign-card" id="campaign-card" {{!'aria-labelledby="card-title"' if card else ''}} data-card-url="/agent/campaign/card" data-card-key="{{card['key'] if card else ''}}" {{!'' if card else 'hidden'}}>
% if card:
% e = card['entry']
  <h2 id="card-title">{{_('Campaign {name}', name=card['campaign_name'])}}: <span id="card-step">{{_('next person to call') if card['step'] == 'preview' else _('on the call') if card['step'] == 'call' else _('choose the result')}}</span></h2>
  <p class="big"><span id="card-name">{{e['name'] or _('(no name)')}}</span> <span class="number" id="card-number">{{e['number']}}</span></p>
  % if card['field_pairs']:
  <dl id="card-fields">
    % for key, value in card['field_pairs']:
    <dt>{{key}}</dt><dd>{{value}}</dd>
    % end
  </dl>
  % end
  <p class="help" id="card-past">{{_('Attempts so far: {n}', n=e['attempts'])}}{{!'' if not e['result'] else ' · '}}{{translate_word(t, e['result']) if e['result'] else ''}}{{' · ' + e['notes'] if e['notes'] else ''}}</p>
  % if card['tries']:
  <ul class="plain" id="card-tries" aria-label="{{_('Earlier attempts')}}">
    % for result, count in card['tries']:
    <li>{{translate_word(t, result)}} × {{t.number(count)}}</li>
    % end
  </ul>
  % end
  % if card['script']:
  <h3>{{_('Script')}}</h3>
  <blockquote class="script" id="card-script">{{card['script']}}</blockquote>
  % end
  % if card['can_dial']:
  <form method="post" action="/agent/campaign/{{card['campaign']}}/{{e['id']}}/dial" class="inline" id="card-dial">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button type="submit">{{_('Dial')}}</button>
    <span class="help">{{_('Your phone rings first; when you pick it up, the person is called.')}}</span>
  </form>
  % end
  <form method="post" action="/agent/campaign/{{card['campaign']}}/{{e['id']}}/result" id="card-result">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % if card['callback_required']:
    <input type="hidden" name="callback_required" value="1">
    <p class="help">{{_('Not calling now? Book a callback: choose when, then the result.')}}</p>
    % end
    <label for="card-notes">{{_('Notes')}}</label>
    <textarea id="card-notes" name="notes" rows="3" maxlength="2000">{{e['notes'] if card['step'] != 'preview' else ''}}</textarea>
    <label for="card-callback">{{_('Call back at')}}</label>
    <input id="card-callback" name="callback_at" type="datetime-local" min="{{card['callback_min']}}"{{!' required' if card['callback_required'] else ''}}>
    <div class="actions" role="group" aria-label="{{_('Result')}}">
      % for d in card['dispositions']:
      <button type="submit" name="result" value="{{d}}">{{d}}</button>
      % end
    </div>
  </form>
% end
</section>
