% rebase('base.tpl')
% s = blocks['summary']
% row = campaign
<h1>{{title}}</h1>
<p class="help" id="now-status" role="status">{{_('Shown as of page load.')}}</p>
<p><a href="/campaigns/{{row['id']}}/list">{{_('Call list')}}</a> · <a href="/campaigns/{{row['id']}}/list.csv">{{_('Export as CSV')}}</a></p>
% if can_edit:
<div class="actions">
% include('campaign_buttons.tpl', row=row, next='/campaigns/%s/report' % row['id'])
</div>
% end
<div class="board" id="board" data-events="/events" data-data="/campaigns/{{row['id']}}/report.json" data-poll="{{poll_s}}" data-refresh-on="campaign campaign_attempt campaign_result" data-now="{{blocks['now']}}">
  <section class="tiles" aria-label="{{_('Progress')}}">
    <div class="tile"><h2 id="t-state">{{_('State')}}</h2><p class="big" data-summary="state" aria-labelledby="t-state">{{s['state']}}</p></div>
    <div class="tile"><h2 id="t-done">{{_('Done')}}</h2><p class="big" data-summary="done_pct" aria-labelledby="t-done">{{s['done_pct']}}</p></div>
    % for key, label in (('contacts', _('People on the list')), ('attempted', _('Attempted')), ('reached', _('Reached')), ('waiting', _('Still waiting')), ('attempts', _('Attempts in all')), ('attempts_per_contact', _('Attempts per person')), ('abandoned_pct', _('Abandoned (of answered)')), ('do_not_call', _('On the do-not-call list')), ('talk', _('Talk time')), ('talk_avg', _('Average talk'))):
    <div class="tile"><h2 id="t-{{key}}">{{label}}</h2><p class="big" data-summary="{{key}}" aria-labelledby="t-{{key}}">{{s[key]}}</p></div>
    % end
  </section>
  <section class="tiles" aria-label="{{_('Satisfaction')}}">
    % for key, label in (('csat_offered', _('Surveys offered')), ('csat_answered', _('Surveys answered')), ('csat_average', _('Average score')), ('csat_pct', _('Satisfied (4 or 5)'))):
    <div class="tile"><h2 id="t-{{key}}">{{label}}</h2><p class="big" data-summary="{{key}}" aria-labelledby="t-{{key}}">{{s[key]}}</p></div>
    % end
  </section>
  % for name, heading, what in (('results', _('Results of the calls'), _('Result')), ('dispositions', _('Agents’ results'), _('Result')), ('attempts_distribution', _('People by attempts'), _('Attempts'))):
  <section class="block" aria-labelledby="h-{{name}}">
    <h2 id="h-{{name}}">{{heading}}</h2>
    <table class="records" data-block="{{name}}" data-columns="what count" aria-labelledby="h-{{name}}">
      <thead><tr><th scope="col">{{what}}</th><th scope="col">{{_('Count')}}</th></tr></thead>
      <tbody>
      % for r in blocks[name]:
      <tr><td data-label="{{what}}">{{r['what']}}</td><td data-label="{{_('Count')}}">{{r['count']}}</td></tr>
      % end
      </tbody>
    </table>
    <p class="help" data-empty="{{name}}" {{!'hidden' if blocks[name] else ''}}>{{_('Nothing yet.')}}</p>
  </section>
  % end
</div>
