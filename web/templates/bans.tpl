% rebase('base.tpl')
<%
def when(value):
    try:
        return t.datetime(float(value), short=True)
    except (TypeError, ValueError):
        return str(value)
    end
end
%>
<h1>{{_('Banned addresses')}}</h1>
<p>{{_('Addresses that failed to authenticate too often. Unban one to let it register again at once.')}}</p>
<div class="scroll">
<table>
  <thead><tr><th scope="col">{{_('Address')}}</th><th scope="col">{{_('Since')}}</th><th scope="col">{{_('Until')}}</th><th scope="col">{{_('Reason')}}</th><th scope="col">{{_('Action')}}</th></tr></thead>
  <tbody>
  % for b in bans:
  <tr><td>{{b['ip']}}</td><td>{{when(b.get('since'))}}</td><td>{{when(b.get('until'))}}</td><td>{{b.get('reason', '')}}</td>
    <td><form method="post" action="/bans/{{b['ip']}}/unban">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button type="submit">{{_('Unban')}}<span class="sr-only"> {{b['ip']}}</span></button></form></td></tr>
  % end
  % if not bans:
  <tr><td colspan="5">{{_('No address is banned.')}}</td></tr>
  % end
  </tbody>
</table>
</div>
