% rebase('base.tpl')
% s = blocks['summary']
<h1>{{blocks['box_name'] or 'Callbox'}} — wallboard</h1>
<p class="help" id="now-status" role="status">Shown as of page load.</p>
% if not kiosk:
<p class="help"><a href="/wallboard/kiosk">Kiosk view for a TV</a> (no menus, large type).</p>
% end
<div class="board wallboard" id="board" data-events="/events" data-data="{{data_url}}" data-poll="{{poll_s}}" data-refresh-on="queue agent call_record engine ban unban" data-now="{{blocks['now']}}">
  % if not blocks['available']['center']:
  <p class="notice">{{not_yet.format(what='queues and agents')}}</p>
  % end
  <section class="tiles" aria-label="Callers">
    <div class="tile tile-waiting"><h2 id="t-waiting">Callers waiting</h2><p class="big" data-summary="waiting" aria-labelledby="t-waiting">{{s['waiting']}}</p></div>
    <div class="tile"><h2 id="t-longest">Longest wait</h2><p class="big" data-summary="longest" data-since-summary="{{'' if blocks['longest_since'] is None else blocks['longest_since']}}" aria-labelledby="t-longest">{{s['longest']}}</p></div>
    <div class="tile"><h2 id="t-sl">Service level today</h2><p class="big" data-summary="service_level" aria-labelledby="t-sl">{{s['service_level']}}</p>
      <p class="help">answered within {{blocks['service_level']['within_s']}} s, of <span data-summary="offered">{{s['offered']}}</span> calls (provisional)</p></div>
  </section>
  <section class="tiles" aria-label="Agents">
    % for key, label in (('available', 'Available'), ('ringing', 'Ringing'), ('talking', 'Talking'), ('wrap_up', 'Wrap-up'), ('on_break', 'On break'), ('logged_out', 'Logged out')):
    <div class="tile tile-{{key}}"><h2 id="t-{{key}}">{{label}}</h2><p class="big" data-summary="{{key}}" aria-labelledby="t-{{key}}">{{s[key]}}</p></div>
    % end
  </section>
  <section class="block" aria-labelledby="h-alarms">
    <h2 id="h-alarms">Alarms</h2>
    <ul class="alarms" data-list="alarms">
      % for a in blocks['alarms']:
      <li>{{a}}</li>
      % end
    </ul>
    <p class="help" data-empty="alarms" {{!'hidden' if blocks['alarms'] else ''}}>No alarm.</p>
  </section>
  % for name, heading, empty in (('queues', 'Queues', 'No queue yet.'), ('agents', 'Agents', 'No agent yet.')):
  % rows = blocks[name]
  <section class="block block-{{name}}" aria-labelledby="h-{{name}}">
    <h2 id="h-{{name}}">{{heading}}</h2>
    <div class="scroll">
    <table class="records" data-block="{{name}}" data-columns="{{' '.join(c for c, _ in columns[name])}}" aria-labelledby="h-{{name}}">
      <thead><tr>
      % for key, label in columns[name]:
        <th scope="col">{{label}}</th>
      % end
      </tr></thead>
      <tbody>
      % for row in rows:
      <tr>
        % for key, label in columns[name]:
        % if key == 'since':
        <td data-label="{{label}}" data-since="{{'' if row['since'] is None else row['since']}}">{{row['since_text']}}</td>
        % elif key + '_class' in row:
        <td data-label="{{label}}"><span class="badge {{row[key + '_class']}}">{{row[key]}}</span></td>
        % else:
        <td data-label="{{label}}">{{row[key]}}</td>
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
