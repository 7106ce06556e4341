% rebase('base.tpl')
<h1>Registrations</h1>
<div class="scroll">
<table>
  <thead><tr><th scope="col">Extension</th><th scope="col">Contact</th><th scope="col">From</th><th scope="col">Expires in</th><th scope="col">Phone</th></tr></thead>
  <tbody>
  % for r in registrations:
  <tr><td>{{r.get('aor', '')}}</td><td>{{r.get('contact', '')}}</td><td>{{r.get('source', '')}}</td><td>{{r.get('expires_in', '')}} s</td><td>{{r.get('user_agent', '')}}</td></tr>
  % end
  % if not registrations:
  <tr><td colspan="5">No phone is registered.</td></tr>
  % end
  </tbody>
</table>
</div>
