% rebase('base.tpl')
<h1>Audit log</h1>
<p>Every change made on this page, newest first.</p>
<div class="scroll">
<table>
  <thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Detail</th></tr></thead>
  <tbody>
  % for a in entries:
  <tr><td>{{a.get('time', '')}}</td><td>{{a.get('actor', '')}}</td><td>{{a.get('action', '')}}</td><td>{{a.get('detail', '')}}</td></tr>
  % end
  % if not entries:
  <tr><td colspan="4">Nothing yet.</td></tr>
  % end
  </tbody>
</table>
</div>
