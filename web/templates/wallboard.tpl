% rebase('base.tpl')
% s = blocks['summary']
<h1>{{_('{name} — wallboard', name=blocks['box_name'] or 'Callbox')}}</h1>
<p class="help" id="now-status" role="status">{{_('Shown as of page load.')}}</p>
% if not kiosk:
<p class="help"><a href="/wallboard/kiosk">{{_('Kiosk view for a TV')}}</a> {{_('(no menus, large type).')}}</p>
% end
<div class="board wallboard" id="board" data-events="/events" data-data="{{data_url}}" data-poll="{{poll_s}}" data-refresh-on="queue agent call_record engine ban unban campaign campaign_attempt" data-now="{{blocks['now']}}">
  % if not blocks['available']['center']:
  <p class="notice">{{not_yet.format(what='queues and agents')}}</p>
  % end
  <section class="tiles" aria-label="{{_('Callers')}}">
    <div class="tile tile-waiting"><h2 id="t-waiting">{{_('Callers waiting')}}</h2><p class="big" data-summary="waiting" aria-labelledby="t-waiting">{{s['waiting']}}</p></div>
    <div class="tile"><h2 id="t-longest">{{_('Longest wait')}}</h2><p class="big" data-summary="longest" data-since-summary="{{'' if blocks['longest_since'] is None else blocks['longest_since']}}" aria-labelledby="t-longest">{{s['longest']}}</p></div>
    <div class="tile"><h2 id="t-sl">{{_('Service level today')}}</h2><p class="big" data-summary="service_level" aria-labelledby="t-sl">{{s['service_level']}}</p>
      <p class="help">{{_('answered within {s} s, of', s=blocks['service_level']['within_s'])}} <span data-summary="offered">{{s['offered']}}</span> {{_('calls (provisional)')}}</p></div>
  </section>
  <section class="tiles" aria-label="{{_('Agents')}}">
    % for key, label in (('available', _('Available')), ('ringing', _('Ringing')), ('talking', _('Talking')), ('wrap_up', _('Wrap-up')), ('on_break', _('On break')), ('logged_out', _('Logged out'))):
    <div class="tile tile-{{key}}"><h2 id="t-{{key}}">{{label}}</h2><p class="big" data-summary="{{key}}" aria-labelledby="t-{{key}}">{{s[key]}}</p></div>
    % end
  </section>
  <section class="block" aria-labelledby="h-alarms">
    <h2 id="h-alarms">{{_('Alarms')}}</h2>
    <ul class="alarms" data-list="alarms">
      % for a in blocks['alarms']:
      <li>{{a}}</li>
      % end
    </ul>
    <p class="help" data-empty="alarms" {{!'hidden' if blocks['alarms'] else ''}}>{{_('No alarm.')}}</p>
  </section>
  % for name, heading, empty in (('queues', _('Queues'), _('No queue yet.')), ('agents', _('Agents'), _('No agent yet.')), ('campaigns', _('Campaigns running'), _('No campaign is running.')), ('csat', _('Satisfaction by queue, last 24 hours'), _('No survey answered in the last 24 hours.'))):
  % rows = blocks[name]
  <section class="block block-{{name}}" aria-labelledby="h-{{name}}">
    <h2 id="h-{{name}}">{{heading}}</h2>
    <div class="scroll">
    <table class="records" data-block="{{name}}" data-columns="{{' '.join(c for c, x in columns[name])}}" aria-labelledby="h-{{name}}">
      <thead><tr>
      % for key, label in columns[name]:
        <th scope="col">{{_(label)}}</th>
      % end
      </tr></thead>
      <tbody>
      % for row in rows:
      <tr>
        % for key, label in columns[name]:
        % if key == 'since':
        <td data-label="{{_(label)}}" data-since="{{'' if row['since'] is None else row['since']}}">{{row['since_text']}}</td>
        % elif key + '_class' in row:
        <td data-label="{{_(label)}}"><span class="badge {{row[key + '_class']}}">{{row[key]}}</span></td>
        % else:
        <td data-label="{{_(label)}}">{{row[key]}}</td>
        % end
        % end
      </tr>
      % end
      </tbody>
    </table>
    </div>
    <p class="help" data-empty="{{name}}" {{!'hidden' if rows else ''}}>{{empty}}</p>
  </section>
  % end
</div>
