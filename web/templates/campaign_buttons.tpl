% for action in row['buttons']:
<form method="post" action="/campaigns/{{row['id']}}/{{action}}" class="inline"{{!' data-confirm="%s"' % _('Stop campaign {name} for good?', name=row['name']).replace('"', '&quot;') if action == 'stop' else ''}}>
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="next" value="{{get('next', '/campaigns')}}">
  <button type="submit" aria-label="{{_(labels[action]) + ' ' + row['name']}}">{{_(labels[action])}}</button>
</form>
% end
