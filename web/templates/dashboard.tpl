% rebase('base.tpl')
<h1>{{_('Dashboard')}}</h1>
% if get('wizard_open'):
<p class="notice">{{_('Set-up is not finished:')}} <a href="/wizard">{{_('continue the set-up wizard')}}</a>.</p>
% end
% if get('alarms'):
<section class="alarms-box" aria-labelledby="h-alarms" role="alert">
  <h2 id="h-alarms">{{_('Alarms')}}</h2>
  <ul class="alarms" id="alarms">
    % for a in alarms:
    <li><strong>{{a['text']}}</strong> {{a['action']}}
      % if a.get('count', 1) > 1:
      <span class="help">({{ngettext('{n} time', '{n} times', int(a['count']))}})</span>
      % end
      % if a.get('incident') and user.role == 'admin':
      <form method="post" action="/alarms/{{a['id']}}/ack" class="inline"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit">{{_('Done')}}</button></form>
      % end
    </li>
    % end
  </ul>
</section>
% end
<div class="tiles">
  <section class="tile" aria-labelledby="t-core"><h2 id="t-core">{{_('Core')}}</h2>
    <p class="big">{{_(str(health.get('status', '?')))}}</p>
    <p>{{_('version {version}, up {minutes} min', version=health.get('version', '?'), minutes=t.number(int(float(health.get('uptime_s', 0)) // 60)))}}</p></section>
  <section class="tile" aria-labelledby="t-reg"><h2 id="t-reg">{{_('Registered phones')}}</h2>
    <p class="big" id="registration-count">{{len(registrations)}}</p>
    % if user.role == 'admin':
    <p><a href="/registrations">{{_('See registrations')}}</a></p>
    % end
  </section>
  % if user.role == 'admin':
  <section class="tile" aria-labelledby="t-bans"><h2 id="t-bans">{{_('Banned addresses')}}</h2>
    <p class="big">{{len(bans)}}</p>
    <p><a href="/bans">{{_('See bans')}}</a></p></section>
  % end
</div>
<section aria-labelledby="live-title">
  <h2 id="live-title">{{_('Live events')}}</h2>
  <p class="help" id="live-status">{{_('Connecting…')}}</p>
  <ul id="live-events" class="events" aria-live="polite" data-source="/events"></ul>
</section>
