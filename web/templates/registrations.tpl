% rebase('base.tpl')
<h1>{{_('Registrations')}}</h1>
<div class="scroll">
<table>
  <thead><tr><th scope="col">{{_('Extension')}}</th><th scope="col">{{_('Contact')}}</th><th scope="col">{{_('From')}}</th><th scope="col">{{_('Expires in')}}</th><th scope="col">{{_('Phone')}}</th></tr></thead>
  <tbody>
  % for r in registrations:
  <tr><td>{{r.get('aor', '')}}</td><td>{{r.get('contact', '')}}</td><td>{{r.get('source', '')}}</td><td>{{r.get('expires_in', '')}} s</td><td>{{r.get('user_agent', '')}}</td></tr>
  % end
  % if not registrations:
  <tr><td colspan="5">{{_('No phone is registered.')}}</td></tr>
  % end
  </tbody>
</table>
</div>
