% rebase('base.tpl')
<h1>{{_('Campaigns')}}</h1>
% if can_edit:
<p><a href="/campaigns/new" class="button">{{_('New campaign')}}</a> <a href="/do-not-call">{{_('Do-not-call list')}}</a></p>
% end
% if missing:
<p class="notice">{{missing}}</p>
% elif not rows:
<p>{{_('No campaign yet.')}}</p>
% else:
<div class="scroll">
<table class="records" id="campaigns">
  <thead><tr><th scope="col">{{_('Name')}}</th><th scope="col">{{_('Mode')}}</th><th scope="col">{{_('Queue')}}</th><th scope="col">{{_('State')}}</th><th scope="col">{{_('Progress')}}</th><th scope="col">{{_('Actions')}}</th></tr></thead>
  <tbody>
  % for row in rows:
  <tr data-campaign="{{row['id']}}">
    <td data-label="{{_('Name')}}"><a href="/campaigns/{{row['id']}}/report">{{row['name']}}</a></td>
    <td data-label="{{_('Mode')}}">{{_(row['mode'])}}</td>
    <td data-label="{{_('Queue')}}">{{row['queue'] or '–'}}</td>
    <td data-label="{{_('State')}}"><span class="badge campaign-{{row['state']}}">{{_(row['state'])}}</span></td>
    <td data-label="{{_('Progress')}}"><progress max="100" value="{{row['done_pct']}}" aria-label="{{_('Done')}}">{{t.percent(row['done_pct'] / 100)}}</progress> {{_('{done} of {total} done', done=row['done'], total=row['total'])}}</td>
    <td data-label="{{_('Actions')}}">
      <a href="/campaigns/{{row['id']}}/list">{{_('Call list')}}</a>
      <a href="/campaigns/{{row['id']}}/report">{{_('Report')}}</a>
      % if can_edit:
      <a href="/campaigns/{{row['id']}}/edit">{{_('Edit')}}</a>
      % include('campaign_buttons.tpl', row=row)
      % end
    </td>
  </tr>
  % end
  </tbody>
</table>
</div>
% end
