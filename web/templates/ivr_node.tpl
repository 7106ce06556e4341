% rebase('base.tpl')
<h1>{{_('New {kind} node', kind=_(kind.replace('_', ' '))) if is_new else _('Edit {kind} node', kind=_(kind.replace('_', ' ')))}} <code>{{node_id}}</code></h1>
% if node_problems:
<ul class="problems" role="alert" aria-label="{{_('Problems with this node')}}">
  % for message in node_problems:
  <li>{{message}}</li>
  % end
</ul>
% end
<form method="post" action="/ivr/nodes/{{node_id}}" class="card node-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="kind" value="{{kind}}">
  % for f in fields:
  % fid = 'n-' + f.name.replace('_', '-')
  % bad = f.name in errors
  % described = fid + '-help' + ((' ' + fid + '-error') if bad else '')
  % invalid = 'aria-invalid="true"' if bad else ''
  <div class="field{{' invalid' if bad else ''}}">
    % if f.kind == 'checkbox':
    <div class="check"><input type="checkbox" id="{{fid}}" name="{{f.name}}" {{!'checked' if f.value else ''}} aria-describedby="{{described}}" {{!invalid}}><label for="{{fid}}">{{_(f.name.replace('_', ' '))}}</label></div>
    % else:
    <label for="{{fid}}">{{_(f.name.replace('_', ' '))}}{{'' if f.required else ' ' + _('(optional)')}}</label>
    % if f.kind == 'select':
    <select id="{{fid}}" name="{{f.name}}" aria-describedby="{{described}}" {{!invalid}}>
      % for c in f.choices:
      <option value="{{c}}" {{!'selected' if str(c) == str(f.value) else ''}}>{{c or _('(none)')}}</option>
      % end
    </select>
    % elif f.kind == 'textarea':
    <textarea id="{{fid}}" name="{{f.name}}" rows="5" aria-describedby="{{described}}" {{!invalid}}>{{f.value}}</textarea>
    % else:
    <input id="{{fid}}" name="{{f.name}}" type="{{f.kind}}" value="{{f.value}}" {{!'step="any"' if f.kind == 'number' else ''}} aria-describedby="{{described}}" {{!invalid}}>
    % end
    % end
    <p class="help" id="{{fid}}-help">{{_(f.help)}}</p>
    % if bad:
    <p class="field-error" id="{{fid}}-error" role="alert">{{translate_message(errors[f.name])}}</p>
    % end
  </div>
  % end
  <button type="submit">{{_('Save')}}</button> <a href="/ivr">{{_('Cancel')}}</a>
</form>
% if not is_new:
<form method="post" action="/ivr/nodes/{{node_id}}/delete" data-confirm="{{_('Delete node {node_id}?', node_id=node_id)}}">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <button type="submit" class="danger">{{_('Delete node')}}</button>
</form>
% end
<h2>{{_('The flow set as it would be') if node_problems or other_problems else _('The flow set')}}</h2>
% include('ivr_tree.tpl')
