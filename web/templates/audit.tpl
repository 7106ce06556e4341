% rebase('base.tpl')
<h1>{{_('Audit log')}}</h1>
<p>{{_('Every change made on this page, newest first.')}}</p>
<div class="scroll">
<table>
  <thead><tr><th scope="col">{{_('Time')}}</th><th scope="col">{{_('Who')}}</th><th scope="col">{{_('What')}}</th><th scope="col">{{_('Detail')}}</th></tr></thead>
  <tbody>
  % for a in entries:
  <tr><td>{{a.get('time', '')}}</td><td>{{a.get('actor', '')}}</td><td>{{a.get('action', '')}}</td><td>{{a.get('detail', '')}}</td></tr>
  % end
  % if not entries:
  <tr><td colspan="4">{{_('Nothing yet.')}}</td></tr>
  % end
  </tbody>
</table>
</div>
