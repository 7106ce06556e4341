% rebase('base.tpl')
<h1>{{_('Users of this page')}}</h1>
<div class="scroll">
<table>
  <thead><tr><th scope="col">{{_('Username')}}</th><th scope="col">{{_('Role')}}</th><th scope="col">{{_('Created')}}</th><th scope="col">{{_('Change')}}</th><th scope="col">{{_('Delete')}}</th></tr></thead>
  <tbody>
  % for u in users:
  <tr><td>{{u['username']}}</td><td>{{_(u.get('role', ''))}}</td><td>{{t.datetime(u.get('created'), short=True)}}</td>
    % if u['username'] == user.username:
    <td colspan="2">{{_('This is you.')}}</td>
    % else:
    <td><form method="post" action="/users/{{u['username']}}/edit" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <label for="role-{{u['username']}}">{{_('Role')}}</label>
      <select id="role-{{u['username']}}" name="role">
        % for r in roles:
        <option value="{{r}}" {{!'selected' if u.get('role') == r else ''}}>{{_(str(r))}}</option>
        % end
      </select>
      <label for="pw-{{u['username']}}">{{_('New password')}}</label>
      <input id="pw-{{u['username']}}" name="password" type="password" autocomplete="new-password" minlength="10">
      <label for="pw2-{{u['username']}}">{{_('Again')}}</label>
      <input id="pw2-{{u['username']}}" name="password2" type="password" autocomplete="new-password" minlength="10">
      <button type="submit">{{_('Save')}}<span class="sr-only"> {{u['username']}}</span></button></form></td>
    <td><form method="post" action="/users/{{u['username']}}/delete" data-confirm="Delete user {{u['username']}}?">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button type="submit" class="danger">{{_('Delete')}}<span class="sr-only"> {{u['username']}}</span></button></form></td>
    % end
  </tr>
  % end
  </tbody>
</table>
</div>
<section class="card narrow" aria-labelledby="add-user">
  <h2 id="add-user">{{_('Add a user')}}</h2>
  <form method="post" action="/users">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="username">{{_('Username')}}</label>
    <input id="username" name="username" value="{{form.get('username', '')}}" required autocapitalize="none">
    <label for="role">{{_('Role')}}</label>
    <select id="role" name="role" aria-describedby="role-help">
      % for r in roles:
      <option value="{{r}}" {{!'selected' if form.get('role', 'agent') == r else ''}}>{{_(str(r))}}</option>
      % end
    </select>
    <p class="help" id="role-help">{{_('admin: everything; supervisor: wallboard, reports and agents; agent: their own panel.')}}</p>
    <label for="password">{{_('Password')}}</label>
    <input id="password" name="password" type="password" required minlength="10" autocomplete="new-password">
    <label for="password2">{{_('Password again')}}</label>
    <input id="password2" name="password2" type="password" required minlength="10" autocomplete="new-password">
    <button type="submit">{{_('Add user')}}</button>
  </form>
</section>
