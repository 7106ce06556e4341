% rebase('base.tpl')
<h1>Dashboard</h1>
% if get('wizard_open'):
<p class="notice">Set-up is not finished: <a href="/wizard">continue the set-up wizard</a>.</p>
% end
<div class="tiles">
  <section class="tile" aria-labelledby="t-core"><h2 id="t-core">Core</h2>
    <p class="big">{{health.get('status', '?')}}</p>
    <p>version {{health.get('version', '?')}}, up {{int(float(health.get('uptime_s', 0)) // 60)}} min</p></section>
  <section class="tile" aria-labelledby="t-reg"><h2 id="t-reg">Registered phones</h2>
    <p class="big" id="registration-count">{{len(registrations)}}</p>
    % if user.role == 'admin':
    <p><a href="/registrations">See registrations</a></p>
    % end
  </section>
  % if user.role == 'admin':
  <section class="tile" aria-labelledby="t-bans"><h2 id="t-bans">Banned addresses</h2>
    <p class="big">{{len(bans)}}</p>
    <p><a href="/bans">See bans</a></p></section>
  % end
</div>
<section aria-labelledby="live-title">
  <h2 id="live-title">Live events</h2>
  <p class="help" id="live-status">Connecting…</p>
  <ul id="live-events" class="events" aria-live="polite" data-source="/events"></ul>
</section>
