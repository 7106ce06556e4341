% rebase('base.tpl')
<h1>Users of this page</h1>
<div class="scroll">
<table>
  <thead><tr><th scope="col">Username</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Change</th><th scope="col">Delete</th></tr></thead>
  <tbody>
  % for u in users:
  <tr><td>{{u['username']}}</td><td>{{u.get('role', '')}}</td><td>{{u.get('created', '')}}</td>
    % if u['username'] == user.username:
    <td colspan="2">This is you.</td>
    % else:
    <td><form method="post" action="/users/{{u['username']}}/edit" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <label for="role-{{u['username']}}">Role</label>
      <select id="role-{{u['username']}}" name="role">
        % for r in roles:
        <option value="{{r}}" {{!'selected' if u.get('role') == r else ''}}>{{r}}</option>
        % end
      </select>
      <label for="pw-{{u['username']}}">New password</label>
      <input id="pw-{{u['username']}}" name="password" type="password" autocomplete="new-password" minlength="10">
      <label for="pw2-{{u['username']}}">Again</label>
      <input id="pw2-{{u['username']}}" name="password2" type="password" autocomplete="new-password" minlength="10">
      <button type="submit">Save<span class="sr-only"> {{u['username']}}</span></button></form></td>
    <td><form method="post" action="/users/{{u['username']}}/delete" data-confirm="Delete user {{u['username']}}?">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button type="submit" class="danger">Delete<span class="sr-only"> {{u['username']}}</span></button></form></td>
    % end
  </tr>
  % end
  </tbody>
</table>
</div>
<section class="card narrow" aria-labelledby="add-user">
  <h2 id="add-user">Add a user</h2>
  <form method="post" action="/users">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="username">Username</label>
    <input id="username" name="username" value="{{form.get('username', '')}}" required autocapitalize="none">
    <label for="role">Role</label>
    <select id="role" name="role" aria-describedby="role-help">
      % for r in roles:
      <option value="{{r}}" {{!'selected' if form.get('role', 'agent') == r else ''}}>{{r}}</option>
      % end
    </select>
    <p class="help" id="role-help">admin: everything; supervisor: wallboard, reports and agents; agent: their own panel.</p>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" required minlength="10" autocomplete="new-password">
    <label for="password2">Password again</label>
    <input id="password2" name="password2" type="password" required minlength="10" autocomplete="new-password">
    <button type="submit">Add user</button>
  </form>
</section>
